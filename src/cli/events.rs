use std::time::Duration;

use serde_json::{json, Value};

use crate::model::{format_time, Event, Payload};
use crate::replay::Replay;
use crate::source::EventSource;

use super::output::{truncate, Align, Output, Table};
use super::{load_replay, ListFormat, EXIT_OK};

/// Longest data preview in the table; the JSON format has everything.
const DATA_PREVIEW: usize = 72;

pub fn run(
    source: &dyn EventSource,
    aggregate: &str,
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let replay = load_replay(source, aggregate)?;
    match format {
        ListFormat::Json => out.json(&to_json(&replay))?,
        ListFormat::Table => out.text(&table(&replay))?,
    }
    Ok(EXIT_OK)
}

/// Prints the events there are, then new ones as they arrive, until interrupted. Works on any
/// source through `events_after`; JSON is one object per line so a consumer can stream it.
pub fn follow(
    source: &dyn EventSource,
    aggregate: &str,
    format: ListFormat,
    interval: Duration,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut replay = load_replay(source, aggregate)?;
    let mut shown = 0;
    loop {
        if replay.len() > shown {
            let notes = notes(&replay).split_off(shown);
            let fresh = &replay.events()[shown..];
            match format {
                ListFormat::Json => {
                    for (event, notes) in fresh.iter().zip(notes) {
                        out.line(&event_json(event, notes).to_string())?;
                    }
                }
                ListFormat::Table => {
                    let text = rows(fresh, notes).render();
                    // The header once; later batches add rows only.
                    let skip = if shown == 0 { 0 } else { 1 };
                    for line in text.lines().skip(skip) {
                        out.line(line)?;
                    }
                }
            }
            out.flush()?;
            shown = replay.len();
        }
        std::thread::sleep(interval);
        let fresh = source.events_after(aggregate, replay.len())?;
        replay.extend(fresh);
    }
}

pub fn follow_interval(seconds: f64) -> anyhow::Result<Duration> {
    if !(0.05..=3600.0).contains(&seconds) {
        anyhow::bail!("--interval {seconds} is out of range: give 0.05 to 3600 seconds");
    }
    Ok(Duration::from_secs_f64(seconds))
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

fn to_json(replay: &Replay) -> Value {
    let notes = notes(replay);
    let events = replay
        .events()
        .iter()
        .zip(notes)
        .map(|(event, notes)| event_json(event, notes));
    Value::Array(events.collect())
}

fn event_json(event: &Event, notes: Vec<String>) -> Value {
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
}

fn table(replay: &Replay) -> String {
    rows(replay.events(), notes(replay)).render()
}

fn rows(events: &[Event], notes: Vec<Vec<String>>) -> Table {
    let mut table = Table::new(&[
        ("VERSION", Align::Right),
        ("TIMESTAMP", Align::Left),
        ("TYPE", Align::Left),
        ("DATA", Align::Left),
    ]);
    for (event, notes) in events.iter().zip(notes) {
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
    table
}
