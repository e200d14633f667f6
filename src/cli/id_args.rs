//! Where correlation, causation and event ids live, as flags (over rewind.toml's `[trace]`).

use crate::config::TraceConfig;
use crate::inspect::{IdRule, TraceIds};

#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Correlation and causation ids")]
pub struct IdArgs {
    /// Where an event's correlation id is: JSON paths over $event (`.metadata.requestId`),
    /// `header:NAME` (Kafka) or `event_id`, comma-separated, tried in turn [default:
    /// metadata or header correlation_id, correlationId, $correlationId].
    #[arg(long, global = true, value_name = "SPEC")]
    pub correlation_from: Option<String>,

    /// Where an event's causation id is (the id of the event that caused it) [default:
    /// metadata or header causation_id, causationId, $causationId].
    #[arg(long, global = true, value_name = "SPEC")]
    pub causation_from: Option<String>,

    /// Where an event's own id is [default: the store's event id column, then metadata or
    /// header event_id, eventId, $eventId].
    #[arg(long, global = true, value_name = "SPEC")]
    pub event_id_from: Option<String>,
}

impl IdArgs {
    /// The rules: each flag over its rewind.toml setting over the default.
    pub fn resolve(&self, config: &TraceConfig) -> anyhow::Result<TraceIds> {
        let mut ids = TraceIds::default();
        let pick = |flag: &Option<String>, file: &Option<String>| flag.clone().or(file.clone());
        for (slot, text) in [
            (
                &mut ids.correlation,
                pick(&self.correlation_from, &config.correlation),
            ),
            (
                &mut ids.causation,
                pick(&self.causation_from, &config.causation),
            ),
            (
                &mut ids.event_id,
                pick(&self.event_id_from, &config.event_id),
            ),
        ] {
            if let Some(text) = text {
                *slot = IdRule::parse(&text)?;
            }
        }
        Ok(ids)
    }
}
