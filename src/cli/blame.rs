use serde_json::{json, Value};

use crate::diff::JsonPath;
use crate::inspect::blame;
use crate::model::format_time;

use super::output::{truncate, Align, Output, Table};
use super::{ListFormat, Session, EXIT_OK};

const VALUE_PREVIEW: usize = 48;

pub fn run(
    session: &Session,
    aggregate: &str,
    path: &str,
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let path = JsonPath::parse(path)?;
    let mut replay = session.replay(aggregate)?;
    let lines = blame(&mut replay, &path)?;
    super::session::report_reducer_failures(aggregate, &replay, replay.len());
    // The index holds what a blame line shows; no payload is read back.
    let entries: Vec<(u64, Option<chrono::DateTime<chrono::Utc>>, String)> = lines
        .iter()
        .filter_map(|line| replay.entry(line.index))
        .map(|e| (e.version, e.timestamp, replay.type_name(&e).to_string()))
        .collect();
    match format {
        ListFormat::Json => out.json(&Value::Array(
            lines
                .iter()
                .zip(&entries)
                .map(|(line, (version, timestamp, event_type))| {
                    json!({
                        "version": version,
                        "timestamp": timestamp.as_ref().map(format_time),
                        "type": event_type,
                        "old": line.old,
                        "new": line.new,
                    })
                })
                .collect(),
        ))?,
        ListFormat::Table => {
            let mut table = Table::new(&[
                ("VERSION", Align::Right),
                ("TIMESTAMP", Align::Left),
                ("TYPE", Align::Left),
                ("CHANGE", Align::Left),
            ]);
            let show = |v: &Option<Value>| {
                v.as_ref().map_or("(absent)".into(), |v| {
                    truncate(&v.to_string(), VALUE_PREVIEW)
                })
            };
            for (line, (version, timestamp, event_type)) in lines.iter().zip(&entries) {
                table.row(vec![
                    version.to_string(),
                    timestamp.as_ref().map_or("-".into(), format_time),
                    event_type.clone(),
                    format!("{} → {}", show(&line.old), show(&line.new)),
                ]);
            }
            out.text(&table.render())?;
            if lines.is_empty() {
                out.line(&format!("no event changed {path}"))?;
            }
        }
    }
    Ok(EXIT_OK)
}
