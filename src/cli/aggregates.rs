use crate::inspect::Health;
use crate::model::{format_time, AggregateSummary};

use super::output::{Align, Output, Table};
use super::{ListFormat, Session, EXIT_OK};

pub fn run(session: &Session, format: ListFormat, out: &mut Output) -> anyhow::Result<u8> {
    let aggregates = session.source.aggregates()?;
    match format {
        ListFormat::Json => out.json(&aggregates)?,
        ListFormat::Table => out.text(&table(&aggregates))?,
    }
    Ok(EXIT_OK)
}

/// `aggregates --health`: each aggregate replayed, with its snapshot drifts, broken
/// invariants, malformed events, warnings and reducer errors.
pub fn run_with_health(
    session: &Session,
    settings: &super::Settings,
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let aggregates = session.source.aggregates()?;
    let mut healths = Vec::with_capacity(aggregates.len());
    for aggregate in &aggregates {
        let mut replay = session.replay_for_one_pass(&aggregate.id)?;
        healths.push(crate::inspect::health(
            &mut replay,
            settings.invariant.as_deref(),
        )?);
    }
    if let Some(failure) = settings.invariant.as_ref().and_then(|i| i.first_failure()) {
        super::output::warn(&format!(
            "--invariant could not judge some states, counted as breaks (first at {failure})"
        ));
    }
    match format {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = aggregates
                .iter()
                .zip(&healths)
                .map(|(aggregate, health)| {
                    let mut row = serde_json::to_value(aggregate).unwrap_or_default();
                    row["health"] = serde_json::to_value(health).unwrap_or_default();
                    row
                })
                .collect();
            out.json(&rows)?;
        }
        ListFormat::Table => out.text(&health_table(&aggregates, &healths))?,
    }
    Ok(EXIT_OK)
}

fn health_table(aggregates: &[AggregateSummary], healths: &[Health]) -> String {
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("TYPE", Align::Left),
        ("EVENTS", Align::Right),
        ("HEALTH", Align::Left),
    ]);
    for (aggregate, health) in aggregates.iter().zip(healths) {
        table.row(vec![
            aggregate.id.clone(),
            aggregate
                .aggregate_type
                .clone()
                .unwrap_or_else(|| "-".into()),
            aggregate.events.to_string(),
            health.describe(),
        ]);
    }
    table.render()
}

pub fn table(aggregates: &[AggregateSummary]) -> String {
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("TYPE", Align::Left),
        ("EVENTS", Align::Right),
        ("SNAPSHOTS", Align::Right),
        ("FIRST", Align::Left),
        ("LAST", Align::Left),
    ]);
    let time =
        |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map_or("-".into(), format_time);
    for aggregate in aggregates {
        table.row(vec![
            aggregate.id.clone(),
            aggregate
                .aggregate_type
                .clone()
                .unwrap_or_else(|| "-".into()),
            aggregate.events.to_string(),
            aggregate.snapshots.to_string(),
            time(&aggregate.first_timestamp),
            time(&aggregate.last_timestamp),
        ]);
    }
    table.render()
}
