use serde_json::{json, Value};

use crate::inspect::Predicate;
use crate::model::{format_time, Payload};
use crate::replay::Replay;

use super::output::{terminal_safe, truncate, Align, Output, Table};
use super::{ListFormat, Session, EXIT_OK};

/// Longest data preview in the table; the JSON format has everything.
const DATA_PREVIEW: usize = 72;

pub fn run(
    session: &Session,
    aggregate: &str,
    where_: Option<&str>,
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut replay = session.replay(aggregate)?;
    let shown: Vec<usize> = match where_ {
        None => (0..replay.len()).collect(),
        Some(code) => {
            let predicate = Predicate::new(code, "--where", session.jq_timeout)?;
            let run = predicate.run(&mut replay, 0, false);
            if let Some((index, err)) = &run.first_error {
                eprintln!(
                    "rewind: --where failed on {} events (first at v{}: {})",
                    run.errors,
                    replay.events()[*index].version,
                    terminal_safe(err)
                );
            }
            run.matches
        }
    };
    match format {
        ListFormat::Json => out.json(&to_json(&replay, &shown))?,
        ListFormat::Table => out.text(&table(&replay, &shown))?,
    }
    Ok(EXIT_OK)
}

/// Everything replay noticed about each event, in one line per event.
fn notes(replay: &Replay) -> Vec<Vec<String>> {
    let mut notes = vec![Vec::new(); replay.len()];
    for warning in replay.warnings() {
        notes[warning.index].push(warning.to_string());
    }
    for (index, problem) in replay.problems() {
        notes[index].push(problem.to_string());
    }
    notes
}

fn to_json(replay: &Replay, shown: &[usize]) -> Value {
    let notes = notes(replay);
    let events = shown
        .iter()
        .map(|&i| (&replay.events()[i], &notes[i]))
        .map(|(event, notes)| {
            let (data, raw) = match &event.data {
                Payload::Json(data) => (data.clone(), Value::Null),
                Payload::Undecodable { raw, .. } => (Value::Null, Value::from(raw.as_str())),
            };
            json!({
                "version": event.version,
                "type": event.event_type,
                "timestamp": event.timestamp.as_ref().map(format_time),
                "data": data,
                "metadata": event.metadata,
                "error": event.data.error(),
                "raw": raw,
                "warnings": notes,
            })
        });
    Value::Array(events.collect())
}

fn table(replay: &Replay, shown: &[usize]) -> String {
    let notes = notes(replay);
    let mut table = Table::new(&[
        ("VERSION", Align::Right),
        ("TIMESTAMP", Align::Left),
        ("TYPE", Align::Left),
        ("DATA", Align::Left),
    ]);
    for (event, notes) in shown.iter().map(|&i| (&replay.events()[i], &notes[i])) {
        let data = match &event.data {
            Payload::Json(data) => truncate(&data.to_string(), DATA_PREVIEW),
            Payload::Undecodable { raw, .. } => format!("{:?}", truncate(raw, DATA_PREVIEW / 2)),
        };
        let data = if notes.is_empty() {
            data
        } else {
            format!("{data}  !! {}", notes.join("; "))
        };
        table.row(vec![
            event.version.to_string(),
            event.timestamp.as_ref().map_or("-".into(), format_time),
            event.event_type.clone(),
            data,
        ]);
    }
    table.render()
}
