//! The questions a person debugging an event store asks: do the snapshots agree with replay
//! (verify), when did this become true (bisect), who changed this field (blame), which
//! events match (where), what happened across the store (log), which events belong to one
//! request (trace), and what did a read model say at a time (project).

mod bisect;
mod blame;
mod health;
mod ids;
mod predicate;
mod project;
mod store_log;
mod trace;
mod trace_text;
mod verify;

pub use bisect::{bisect, Bisection};
pub use blame::{blame, blame_each, BlameLine};
pub use health::{health, Health, Invariant};
pub use ids::{EventIds, IdField, IdFieldError, IdRule, TraceIds};
pub use predicate::{Predicate, PredicateRun};
pub use project::{project, Instant, ProjectionError, ReadModel, KEPT_ERRORS};
pub use store_log::{Failure, Failures, LogFilter, LogLine, StoreLog};
pub use trace::{trace, Link, Trace, TraceEvent};
pub use trace_text::elapsed;
pub use verify::{verify_aggregate, Drift, DriftKind};
