//! The questions a person debugging an aggregate asks: do the snapshots agree with replay
//! (verify), when did this become true (bisect), who changed this field (blame), and which
//! events match (where).

mod bisect;
mod blame;
mod predicate;
mod verify;

pub use bisect::{bisect, Bisection};
pub use blame::{blame, BlameLine};
pub use predicate::{Predicate, PredicateRun};
pub use verify::{verify_aggregate, Drift, DriftKind};
