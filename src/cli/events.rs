use std::time::Duration;

use serde_json::{json, Value};

use crate::inspect::Predicate;
use crate::model::{format_time, Event, Payload};
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
    let filter = where_
        .map(|code| Predicate::new(code, "--where", session.jq_limits))
        .transpose()?;
    let shown = matching(&mut replay, filter.as_ref(), 0);
    let notes = notes(&replay);
    match format {
        ListFormat::Json => out.json(&Value::Array(
            shown
                .iter()
                .map(|&i| event_json(&replay.events()[i], &notes[i]))
                .collect(),
        ))?,
        ListFormat::Table => out.text(&rows(&replay, &shown, &notes).render())?,
    }
    Ok(EXIT_OK)
}

/// Prints the events there are, then new ones as they arrive, until interrupted. Works on any
/// source through `events_after`; JSON is one object per line so a consumer can stream it.
pub fn follow(
    session: &Session,
    aggregate: &str,
    where_: Option<&str>,
    format: ListFormat,
    interval: Duration,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut replay = session.replay(aggregate)?;
    let filter = where_
        .map(|code| Predicate::new(code, "--where", session.jq_limits))
        .transpose()?;
    let (mut judged, mut header_printed) = (0, false);
    loop {
        if replay.len() > judged {
            let shown = matching(&mut replay, filter.as_ref(), judged);
            let notes = notes(&replay);
            match format {
                ListFormat::Json => {
                    for &i in &shown {
                        out.line(&event_json(&replay.events()[i], &notes[i]).to_string())?;
                    }
                }
                ListFormat::Table => {
                    let text = rows(&replay, &shown, &notes).render();
                    // The header once; later batches add rows only.
                    let skip = usize::from(header_printed);
                    for line in text.lines().skip(skip) {
                        out.line(line)?;
                    }
                    header_printed = true;
                }
            }
            out.flush()?;
            judged = replay.len();
        }
        std::thread::sleep(interval);
        let fresh = session.source.events_after(aggregate, replay.len())?;
        replay.extend(fresh);
    }
}

pub fn follow_interval(seconds: f64) -> anyhow::Result<Duration> {
    if !(0.05..=3600.0).contains(&seconds) {
        anyhow::bail!("--interval {seconds} is out of range: give 0.05 to 3600 seconds");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Indices of the events from `from` on that pass the filter (all of them without one).
fn matching(replay: &mut Replay, filter: Option<&Predicate>, from: usize) -> Vec<usize> {
    let Some(predicate) = filter else {
        return (from..replay.len()).collect();
    };
    let run = predicate.run(replay, from, false);
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

fn event_json(event: &Event, notes: &[String]) -> Value {
    let (data, raw) = match &event.data {
        Payload::Json(data) => (data.value(), Value::Null),
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

fn rows(replay: &Replay, shown: &[usize], notes: &[Vec<String>]) -> Table {
    let mut table = Table::new(&[
        ("VERSION", Align::Right),
        ("TIMESTAMP", Align::Left),
        ("TYPE", Align::Left),
        ("DATA", Align::Left),
    ]);
    for &i in shown {
        let event = &replay.events()[i];
        let data = match &event.data {
            Payload::Json(data) => truncate(&data.to_string(), DATA_PREVIEW),
            Payload::Undecodable { raw, .. } => format!("{:?}", truncate(raw, DATA_PREVIEW / 2)),
        };
        let data = if notes[i].is_empty() {
            data
        } else {
            format!("{data}  !! {}", notes[i].join("; "))
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
