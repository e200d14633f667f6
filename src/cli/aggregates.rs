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
