use std::time::Duration;

use serde_json::{json, Value};

use crate::display::message_line;
use crate::inspect::Predicate;
use crate::model::{format_time, Event, Payload};
use crate::replay::Replay;

use super::output::{truncate, warn, Align, JsonArray, Output};
use super::stream_table::StreamTable;
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
    let mut printer = Printer::new(format, Arrays::Whole);
    let end = replay.len();
    print_events(&mut replay, filter.as_ref(), 0..end, &mut printer, out)?;
    printer.finish(out)?;
    super::session::report_reducer_failures(aggregate, &replay, replay.len());
    Ok(EXIT_OK)
}

/// Prints the events there are, then new ones as they arrive, until interrupted; each poll
/// resumes where the last read ended, so it costs what arrived. JSON is one object per line
/// so a consumer can stream it.
pub fn follow(
    session: &Session,
    aggregate: &str,
    where_: Option<&str>,
    format: ListFormat,
    interval: Duration,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let source = session.source.as_ref();
    let (mut replay, mut resume) =
        crate::load::replay_to_follow(source, aggregate, session.reducer_for(aggregate))?;
    super::session::report_reducer_failures(aggregate, &replay, replay.len());
    let filter = where_
        .map(|code| Predicate::new(code, "--where", session.jq_limits))
        .transpose()?;
    let mut printer = Printer::new(format, Arrays::Lines);
    let mut judged = 0;
    loop {
        if replay.len() > judged {
            let end = replay.len();
            print_events(&mut replay, filter.as_ref(), judged..end, &mut printer, out)?;
            printer.flush(out)?;
            super::output::flush_warnings();
            judged = end;
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

/// Events judged at once: each batch is read back from the store once.
const BATCH: usize = 512;

/// Prints the events of `range` that pass the filter (all of them without one), a batch
/// at a time, so a history of any length is never held.
fn print_events(
    replay: &mut Replay,
    filter: Option<&Predicate>,
    range: std::ops::Range<usize>,
    printer: &mut Printer,
    out: &mut Output,
) -> anyhow::Result<()> {
    let mut failures = (0usize, None::<(u64, String)>);
    let mut start = range.start;
    while start < range.end {
        let end = (start + BATCH).min(range.end);
        let shown: Vec<usize> = match filter {
            None => (start..end).collect(),
            Some(predicate) => {
                let run = predicate.run_range(replay, start..end)?;
                failures.0 += run.errors;
                if let (None, Some((index, err))) = (&failures.1, run.first_error) {
                    let version = replay.entry(index).map_or(0, |e| e.version);
                    failures.1 = Some((version, err));
                }
                run.matches
            }
        };
        let events = replay.events(start..end)?.into_owned();
        for index in shown {
            let notes = notes(replay, index);
            printer.print(out, &events[index - start], &notes)?;
        }
        start = end;
    }
    if let Some((version, err)) = failures.1 {
        warn(&format!(
            "--where failed on {} events (first at v{version}: {err})",
            failures.0
        ));
    }
    Ok(())
}

/// Everything replay noticed about one event, one line each.
fn notes(replay: &Replay, index: usize) -> Vec<String> {
    let warnings = replay.warnings();
    let first = warnings.partition_point(|w| w.index < index);
    let mut notes: Vec<String> = warnings[first..]
        .iter()
        .take_while(|w| w.index == index)
        .map(ToString::to_string)
        .collect();
    if let Some(problem) = replay.problem(index) {
        notes.push(problem.to_string());
    }
    notes
}

/// How a JSON listing comes out: one array (a finished listing) or one object per line
/// (a follow, which never finishes).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arrays {
    Whole,
    Lines,
}

/// Prints events as they come: an aligned table whose widths only grow, or JSON.
struct Printer {
    format: ListFormat,
    arrays: Arrays,
    table: StreamTable,
    array: Option<JsonArray>,
}

impl Printer {
    fn new(format: ListFormat, arrays: Arrays) -> Printer {
        Printer {
            format,
            arrays,
            table: StreamTable::new(&[
                ("VERSION", Align::Right),
                ("TIMESTAMP", Align::Left),
                ("TYPE", Align::Left),
                ("DATA", Align::Left),
            ]),
            array: Some(JsonArray::default()),
        }
    }

    fn print(&mut self, out: &mut Output, event: &Event, notes: &[String]) -> anyhow::Result<()> {
        match (self.format, self.arrays) {
            (ListFormat::Json, Arrays::Lines) => out.json_line(&event_json(event, notes)),
            (ListFormat::Json, Arrays::Whole) => match self.array.as_mut() {
                Some(array) => array.push(out, &event_json(event, notes)),
                None => Ok(()),
            },
            (ListFormat::Table, _) => self.table.row(out, row(event, notes)),
        }
    }

    /// Shows what is held back (a follow poll's rows).
    fn flush(&mut self, out: &mut Output) -> anyhow::Result<()> {
        if self.format == ListFormat::Table {
            self.table.flush(out)?;
        }
        out.flush()
    }

    fn finish(&mut self, out: &mut Output) -> anyhow::Result<()> {
        match self.format {
            ListFormat::Table => self.table.flush(out),
            ListFormat::Json => match (self.arrays, self.array.take()) {
                (Arrays::Whole, Some(array)) => array.finish(out),
                _ => Ok(()),
            },
        }
    }
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

fn row(event: &Event, notes: &[String]) -> Vec<String> {
    let data = match &event.data {
        Payload::Json(data) => truncate(&data.to_string(), DATA_PREVIEW),
        Payload::Undecodable { raw, .. } => format!("{:?}", truncate(raw, DATA_PREVIEW / 2)),
    };
    let data = if notes.is_empty() {
        data
    } else {
        let notes: Vec<String> = notes.iter().map(|n| message_line(n)).collect();
        format!("{data}  !! {}", notes.join("; "))
    };
    vec![
        event.version.to_string(),
        event.timestamp.as_ref().map_or("-".into(), format_time),
        event.event_type.clone(),
        data,
    ]
}
