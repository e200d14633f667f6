//! rewind: a time-travel debugger for event-sourced systems.
//!
//! The core (`model`, `source`, `replay`, `diff`, `export`, `display`) never depends on a
//! front end.

pub mod cli;
pub mod config;
pub mod diff;
pub mod display;
pub mod export;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod inspect;
pub mod jq;
pub mod load;
pub mod model;
pub mod replay;
pub mod source;
pub mod tui;
