//! What one jq program may spend: time per step and memory, enforced on its worker process.

use std::time::Duration;

/// Memory a jq program may use when the user does not say, in MiB.
pub const DEFAULT_MEMORY_MB: u64 = 512;

/// The bounds of a jq program's evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// One step (an event folded, an item judged) longer than this is stopped.
    pub step_time: Duration,
    /// The worker process is stopped when its heap would grow past this.
    pub memory_bytes: u64,
}

impl Limits {
    pub fn new(step_time: Duration, memory_mb: u64) -> Limits {
        Limits {
            step_time,
            memory_bytes: memory_mb.saturating_mul(1 << 20),
        }
    }

    /// The memory budget in whole MiB, as users give it.
    pub fn memory_mb(&self) -> u64 {
        self.memory_bytes >> 20
    }

    /// The largest message either side accepts: a state or output may take about twice its
    /// heap size as JSON text, and never less room than a few MiB.
    pub(super) fn max_frame(&self) -> usize {
        let bytes = self.memory_bytes.saturating_mul(2).max(16 << 20);
        usize::try_from(bytes)
            .unwrap_or(usize::MAX)
            .min(u32::MAX as usize)
    }
}

/// A time limit alone keeps the default memory budget, so `Evaluator::new(code, origin,
/// Duration)` still reads as it did.
impl From<Duration> for Limits {
    fn from(step_time: Duration) -> Limits {
        Limits::new(step_time, DEFAULT_MEMORY_MB)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Duration::from_secs(1).into()
    }
}
