use std::time::Duration;

use serde_json::{json, Value};

use crate::display::message_line;
use crate::inspect::Predicate;
use crate::model::{format_time, Event, Payload, Position};
use crate::replay::Replay;

use super::output::{truncate, warn, Align, JsonArray, Output};
use super::stream_table::StreamTable;
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
    /// The events `--from` and `--to` leave, as `diff` resolves positions.
    fn indices(&self, replay: &Replay) -> anyhow::Result<std::ops::Range<usize>> {
        let resolve = |text: &Option<String>, flag: &str| -> anyhow::Result<Option<usize>> {
            text.as_deref()
                .map(|t| -> anyhow::Result<usize> {
                    let position: Position =
                        t.parse().map_err(|err| anyhow::anyhow!("{flag}: {err}"))?;
                    Ok(replay.resolve(position)?)
                })
                .transpose()
        };
        let after = resolve(&self.from, "--from")?.unwrap_or(0);
        let through = resolve(&self.to, "--to")?.unwrap_or(replay.len());
        if through < after {
            // An empty table would look like an empty range; say which way round it is.
            anyhow::bail!(
                "--from {} comes after --to {}: no event lies between them (swap them)",
                self.from.as_deref().unwrap_or_default(),
                self.to.as_deref().unwrap_or_default()
            );
        }
        Ok(after..through)
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
        .map(|code| Predicate::new(code, "--where", session.jq_limits))
        .transpose()?;
    let mut printer = Printer::new(format, Arrays::Whole, has_ids(&mut replay)?);
    let mut indices = range.indices(&replay)?;
    let pick = match (range.tail, filter.is_some()) {
        // The last few of every event need no judging of the rest.
        (Some(tail), false) => {
            indices.start = indices.start.max(indices.end.saturating_sub(tail));
            Pick::All
        }
        (Some(tail), true) => Pick::Last(tail),
        (None, _) => range.limit.map_or(Pick::All, Pick::First),
    };
    print_events(
        &mut replay,
        filter.as_ref(),
        indices,
        pick,
        &mut printer,
        out,
    )?;
    printer.finish(out)?;
    super::session::report_step_problems(aggregate, &replay, replay.len());
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
    super::session::report_step_problems(aggregate, &replay, replay.len());
    let filter = where_
        .map(|code| Predicate::new(code, "--where", session.jq_limits))
        .transpose()?;
    let mut printer = Printer::new(format, Arrays::Lines, has_ids(&mut replay)?);
    let mut judged = 0;
    // Each poll sees what arrived: the snapshot the first read shared ends here.
    source.release_snapshot()?;
    loop {
        if replay.len() > judged {
            let end = replay.len();
            // The events already stored are cut to their last few; what arrives is all shown.
            let pick = match (judged, tail) {
                (0, Some(tail)) => Pick::Last(tail),
                _ => Pick::All,
            };
            print_events(
                &mut replay,
                filter.as_ref(),
                judged..end,
                pick,
                &mut printer,
                out,
            )?;
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

/// Which of the matching events are printed.
#[derive(Clone, Copy)]
enum Pick {
    All,
    First(usize),
    /// The last few: their indices are kept as the rest is judged, then printed.
    Last(usize),
}

/// Whether the store keeps its own ids for these events (then the table shows them).
fn has_ids(replay: &mut Replay) -> anyhow::Result<bool> {
    Ok(match replay.is_empty() {
        true => false,
        false => replay.event(0)?.event_id.is_some(),
    })
}

/// Prints the events of `range` that pass the filter (all of them without one), a batch
/// at a time, so a history of any length is never held.
fn print_events(
    replay: &mut Replay,
    filter: Option<&Predicate>,
    range: std::ops::Range<usize>,
    pick: Pick,
    printer: &mut Printer,
    out: &mut Output,
) -> anyhow::Result<()> {
    let mut failures = (0usize, None::<(u64, String)>);
    let mut last = std::collections::VecDeque::new();
    let mut printed = 0usize;
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
        match pick {
            Pick::Last(n) => {
                last.extend(shown);
                while last.len() > n {
                    last.pop_front();
                }
            }
            Pick::All | Pick::First(_) => {
                let events = replay.events(start..end)?.into_owned();
                for index in shown {
                    if matches!(pick, Pick::First(n) if printed >= n) {
                        break;
                    }
                    printer.print(out, &events[index - start], &notes(replay, index))?;
                    printed += 1;
                }
                if matches!(pick, Pick::First(n) if printed >= n) {
                    break;
                }
            }
        }
        start = end;
    }
    for index in last {
        let event = replay.event(index)?;
        printer.print(out, &event, &notes(replay, index))?;
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
    /// The store's event ids get a column of their own.
    ids: bool,
}

impl Printer {
    fn new(format: ListFormat, arrays: Arrays, ids: bool) -> Printer {
        let mut columns = vec![("VERSION", Align::Right)];
        if ids {
            columns.push(("EVENT ID", Align::Left));
        }
        columns.extend([
            ("TIMESTAMP", Align::Left),
            ("TYPE", Align::Left),
            ("DATA", Align::Left),
        ]);
        Printer {
            format,
            arrays,
            table: StreamTable::new(&columns),
            array: Some(JsonArray::default()),
            ids,
        }
    }

    fn print(&mut self, out: &mut Output, event: &Event, notes: &[String]) -> anyhow::Result<()> {
        match (self.format, self.arrays) {
            (ListFormat::Json, Arrays::Lines) => out.json_line(&event_json(event, notes)),
            (ListFormat::Json, Arrays::Whole) => match self.array.as_mut() {
                Some(array) => array.push(out, &event_json(event, notes)),
                None => Ok(()),
            },
            (ListFormat::Table, _) => self.table.row(out, row(event, notes, self.ids)),
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

fn row(event: &Event, notes: &[String], ids: bool) -> Vec<String> {
    let data = match &event.data {
        Payload::Json(data) => truncate(&data.to_string(), DATA_PREVIEW),
        Payload::Undecodable { raw, .. } => format!("{:?}", truncate(raw, DATA_PREVIEW / 2)),
    };
    let data = match event.is_archived() {
        true => format!("[archived] {data}"),
        false => data,
    };
    let data = if notes.is_empty() {
        data
    } else {
        let notes: Vec<String> = notes.iter().map(|n| message_line(n)).collect();
        format!("{data}  !! {}", notes.join("; "))
    };
    let mut cells = vec![event.version.to_string()];
    if ids {
        cells.push(event.event_id.clone().unwrap_or_else(|| "-".into()));
    }
    cells.extend([
        event.timestamp.as_ref().map_or("-".into(), format_time),
        event.event_type.clone(),
        data,
    ]);
    cells
}
