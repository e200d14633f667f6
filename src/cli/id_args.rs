//! Where correlation, causation and event ids live, as flags (over rewind.toml's `[trace]`).

use crate::config::TraceConfig;
use crate::inspect::{IdRule, TraceIds};
use crate::source::IdConventions;

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
    /// The rules the user named: each flag over its rewind.toml setting.
    pub fn resolve(&self, config: &TraceConfig) -> anyhow::Result<NamedIds> {
        let pick = |flag: &Option<String>, file: &Option<String>| {
            flag.clone()
                .or(file.clone())
                .map(|text| IdRule::parse(&text))
                .transpose()
        };
        Ok(NamedIds {
            correlation: pick(&self.correlation_from, &config.correlation)?,
            causation: pick(&self.causation_from, &config.causation)?,
            event_id: pick(&self.event_id_from, &config.event_id)?,
        })
    }
}

/// The id rules the user named; the rest are the store's conventions or the defaults,
/// settled once the store is open.
#[derive(Debug, Clone, Default)]
pub struct NamedIds {
    correlation: Option<IdRule>,
    causation: Option<IdRule>,
    event_id: Option<IdRule>,
}

impl NamedIds {
    /// Each rule: the user's, else the store's convention, else the conventional default.
    pub fn with_conventions(&self, conventions: IdConventions) -> TraceIds {
        let mut ids = TraceIds::default();
        for (slot, named, convention) in [
            (
                &mut ids.correlation,
                &self.correlation,
                conventions.correlation,
            ),
            (&mut ids.causation, &self.causation, conventions.causation),
            (&mut ids.event_id, &self.event_id, conventions.event_id),
        ] {
            let conventional = convention.and_then(|text| IdRule::parse(text).ok());
            if let Some(rule) = named.clone().or(conventional) {
                *slot = rule;
            }
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_rule_wins_over_the_stores_convention_over_the_default() {
        let conventions = IdConventions {
            correlation: Some(".metadata.correlationStreamName"),
            causation: Some(".metadata.causationMessageGlobalPosition"),
            event_id: None,
        };
        let args = IdArgs {
            causation_from: Some(".metadata.cause".into()),
            ..IdArgs::default()
        };
        let ids = args
            .resolve(&TraceConfig::default())
            .unwrap()
            .with_conventions(conventions);
        let parse = |text: &str| IdRule::parse(text).unwrap();
        assert_eq!(ids.correlation, parse(".metadata.correlationStreamName"));
        assert_eq!(ids.causation, parse(".metadata.cause"));
        assert_eq!(ids.event_id, TraceIds::default().event_id);
        let none = NamedIds::default().with_conventions(IdConventions::default());
        assert_eq!(none, TraceIds::default());
    }
}
