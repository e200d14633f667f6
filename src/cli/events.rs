use std::time::Duration;

use serde_json::{json, Value};

use crate::display::message_line;
use crate::inspect::Predicate;
use crate::model::{format_time, Event, Payload, Position};
use crate::replay::Replay;

use super::output::{truncate, warn, Align, Output, Table};
use super::{ListFormat, Session, EXIT_OK};

/// Longest data preview in the table; the JSON format has everything.
const DATA_PREVIEW: usize = 72;

/// Which of the events to print: a range of positions, then the first or last few.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EventRange {
    /// Only events after this position: a version (`12`, `v12`) or a time, as `diff --from`
    /// counts it (`--from 12` starts at v13; `--from 0` at the first event).
    #[arg(long, value_name = "POS", conflicts_with = "follow")]
    pub from: Option<String>,
    /// Only events up to and including this position (version or time).
    #[arg(long, value_name = "POS", conflicts_with = "follow")]
    pub to: Option<String>,
    /// At most this many events, the first ones (after --from, --to and --where).
    #[arg(long, value_name = "N", conflicts_with_all = ["tail", "follow"])]
    pub limit: Option<usize>,
    /// Only the last N events (with --follow: of those already stored, then every new one).
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

impl EventRange {
    /// The indices of `shown` this range keeps; positions resolve as `diff` resolves them.
    fn select(&self, replay: &mut Replay, shown: Vec<usize>) -> anyhow::Result<Vec<usize>> {
        let resolve = |replay: &mut Replay, text: &Option<String>, flag: &str| {
            text.as_deref()
                .map(|t| -> anyhow::Result<usize> {
                    let position: Position =
                        t.parse().map_err(|err| anyhow::anyhow!("{flag}: {err}"))?;
                    Ok(replay.resolve(position)?)
                })
                .transpose()
        };
        let after = resolve(replay, &self.from, "--from")?.unwrap_or(0);
        let through = resolve(replay, &self.to, "--to")?.unwrap_or(usize::MAX);
        let mut kept: Vec<usize> = shown
            .into_iter()
            .filter(|&i| i >= after && i < through)
            .collect();
        if let Some(limit) = self.limit {
            kept.truncate(limit);
        }
        if let Some(tail) = self.tail {
            kept.drain(..kept.len().saturating_sub(tail));
        }
        Ok(kept)
    }
}

pub fn run(
    session: &Session,
    aggregate: &str,
    where_: Option<&str>,
    range: &EventRange,
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut replay = session.replay(aggregate)?;
    let filter = where_
        .map(|code| Predicate::new(code, "--where", session.jq_timeout))
        .transpose()?;
    let shown = matching(&mut replay, filter.as_ref(), 0);
    let shown = range.select(&mut replay, shown)?;
    super::session::report_reducer_failures(aggregate, &replay, replay.len());
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

/// Prints the events there are, then new ones as they arrive, until interrupted; each poll
/// resumes where the last read ended, so it costs what arrived. JSON is one object per line
/// so a consumer can stream it.
pub fn follow(
    session: &Session,
    aggregate: &str,
    where_: Option<&str>,
    tail: Option<usize>,
    format: ListFormat,
    interval: Duration,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let source = session.source.as_ref();
    let (mut replay, mut resume) =
        crate::load::replay_to_follow(source, aggregate, session.reducer_for(aggregate))?;
    super::session::report_reducer_failures(aggregate, &replay, replay.len());
    let filter = where_
        .map(|code| Predicate::new(code, "--where", session.jq_timeout))
        .transpose()?;
    let (mut judged, mut header_printed) = (0, false);
    loop {
        if replay.len() > judged {
            let mut shown = matching(&mut replay, filter.as_ref(), judged);
            if let (0, Some(tail)) = (judged, tail) {
                // The backlog is cut to its last few; what arrives later is all shown.
                shown.drain(..shown.len().saturating_sub(tail));
            }
            let notes = notes(&replay);
            match format {
                ListFormat::Json => {
                    for &i in &shown {
                        out.json_line(&event_json(&replay.events()[i], &notes[i]))?;
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
            super::output::flush_warnings();
            judged = replay.len();
        }
        std::thread::sleep(interval);
        let (fresh, next) = crate::load::poll(source, aggregate, resume)?;
        resume = next;
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
        warn(&format!(
            "--where failed on {} events (first at v{}: {err})",
            run.errors,
            replay.events()[*index].version,
        ));
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
        "event_id": event.event_id,
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
    // The store's own event ids, where it keeps them, to find an event in other tools.
    let with_ids = replay.events().iter().any(|e| e.event_id.is_some());
    let mut columns = vec![("VERSION", Align::Right)];
    if with_ids {
        columns.push(("EVENT ID", Align::Left));
    }
    columns.extend([
        ("TIMESTAMP", Align::Left),
        ("TYPE", Align::Left),
        ("DATA", Align::Left),
    ]);
    let mut table = Table::new(&columns);
    for &i in shown {
        let event = &replay.events()[i];
        let data = match &event.data {
            Payload::Json(data) => truncate(&data.to_string(), DATA_PREVIEW),
            Payload::Undecodable { raw, .. } => format!("{:?}", truncate(raw, DATA_PREVIEW / 2)),
        };
        let data = if notes[i].is_empty() {
            data
        } else {
            let notes: Vec<String> = notes[i].iter().map(|n| message_line(n)).collect();
            format!("{data}  !! {}", notes.join("; "))
        };
        let mut cells = vec![event.version.to_string()];
        if with_ids {
            cells.push(event.event_id.clone().unwrap_or_else(|| "-".into()));
        }
        cells.extend([
            event.timestamp.as_ref().map_or("-".into(), format_time),
            event.event_type.clone(),
            data,
        ]);
        table.row(cells);
    }
    table
}
