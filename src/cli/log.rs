//! `rewind log`: every event of the store in store order, as a table or JSON Lines.

use std::ops::ControlFlow;

use serde_json::{json, Value};

use crate::inspect::{Failures, LogFilter, LogLine, Predicate, StoreLog, TraceIds};
use crate::model::{format_time, Payload, SincePoint};
use crate::source::{Query, Start};

use super::output::{warn, Align, Output};
use super::stream_table::StreamTable;
use super::{ListFormat, Session, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    pub source: String,
    /// Start at this store position (`1234`; Kafka `PARTITION:OFFSET`) or at this time
    /// (RFC 3339 or a UTC prefix like `2026-01-15 10:30`).
    #[arg(long, value_name = "POS_OR_TIME")]
    since: Option<String>,
    /// Only events stamped at or before this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only aggregates of this type; repeatable.
    #[arg(long = "aggregate-type", value_name = "TYPE")]
    aggregate_types: Vec<String>,
    /// Only events of this type; repeatable.
    #[arg(long = "type", value_name = "TYPE")]
    event_types: Vec<String>,
    /// Only events whose correlation id is this (see --correlation-from).
    #[arg(long, value_name = "ID")]
    correlation: Option<String>,
    /// Only events for which this jq expression holds: `$event` is the event (with
    /// `aggregate_id`, `aggregate_type`, `position`), `.` its aggregate's state after it,
    /// e.g. `.balance < 0`.
    #[arg(long = "where", value_name = "JQ")]
    where_: Option<String>,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Keep running and print new events as they are stored, until interrupted.
    #[arg(long)]
    follow: bool,
    /// Seconds between checks for new events with --follow.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        requires = "follow"
    )]
    interval: f64,
    /// `table`, or `json`: one object per line.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

pub fn run(session: &Session, args: LogArgs, out: &mut Output) -> anyhow::Result<u8> {
    let mut query = Query::store();
    query.aggregate_types = args.aggregate_types;
    query.event_types = args.event_types;
    query.until = args
        .until
        .as_deref()
        .map(super::parse_time_arg)
        .transpose()?;
    match args
        .since
        .as_deref()
        .map(str::parse::<SincePoint>)
        .transpose()?
    {
        Some(SincePoint::Position(input)) => {
            query.start = Start::Position(session.source.resolve_position(input)?);
        }
        Some(SincePoint::Time(time)) => query.since = Some(time),
        None => {}
    }
    let interval = match args.follow {
        true => Some(super::events::follow_interval(args.interval)?),
        false => None,
    };
    let predicate = args
        .where_
        .as_deref()
        .map(|code| Predicate::new(code, "--where", session.jq_limits))
        .transpose()?;
    let filter = LogFilter {
        query,
        correlation: args.correlation,
        limit: args.limit,
    };
    let reducer_for = |id: &str| session.reducer_for(id);
    let mut log = StoreLog::new(filter, &session.ids, predicate.as_ref(), &reducer_for);
    let mut printer = Printer::new(args.format, &session.ids);
    let source = session.source.as_ref();
    let mut resume = log.read(source, None, &mut |line| printer.print(out, line))?;
    printer.finish(out)?;
    let mut reported = Reported::default();
    reported.report(&log);
    let Some(interval) = interval else {
        return Ok(EXIT_OK);
    };
    // Each poll sees what arrived: the snapshot the first read shared ends here.
    source.release_snapshot()?;
    while !log.done() {
        std::thread::sleep(interval);
        resume = log.read(source, Some(resume), &mut |line| printer.print(out, line))?;
        printer.finish(out)?;
        reported.report(&log);
    }
    Ok(EXIT_OK)
}

/// One line on stderr per kind of failure, as `events --where` does; a follow says it
/// again only when a poll added failures, not after every poll.
#[derive(Default)]
struct Reported {
    predicate: usize,
    reducer: usize,
}

impl Reported {
    fn report(&mut self, log: &StoreLog<'_>) {
        let say = |what: &str, failures: &Failures, reported: &mut usize| {
            let Some(first) = &failures.first else {
                return;
            };
            if failures.count == *reported {
                return;
            }
            *reported = failures.count;
            warn(&format!(
                "{what} failed on {} events (first: {} v{} at position {}: {})",
                failures.count, first.aggregate, first.version, first.position, first.message
            ));
        };
        say("--where", &log.predicate_failures, &mut self.predicate);
        say("the reducer", &log.reducer_failures, &mut self.reducer);
    }
}

/// Prints log lines as they come: an aligned table, or JSON Lines.
struct Printer<'i> {
    format: ListFormat,
    table: StreamTable,
    ids: &'i TraceIds,
    error: Option<anyhow::Error>,
}

impl<'i> Printer<'i> {
    fn new(format: ListFormat, ids: &'i TraceIds) -> Printer<'i> {
        Printer {
            format,
            table: StreamTable::new(&[
                ("POSITION", Align::Right),
                ("TIME", Align::Left),
                ("AGGREGATE", Align::Left),
                ("TYPE", Align::Left),
                ("VERSION", Align::Right),
                ("EVENT", Align::Left),
                ("NOTES", Align::Left),
            ]),
            ids,
            error: None,
        }
    }

    fn print(&mut self, out: &mut Output, line: LogLine) -> ControlFlow<()> {
        let printed = match self.format {
            ListFormat::Json => out.json_line(&line_json(&line, self.ids)),
            ListFormat::Table => {
                let event = &line.event;
                self.table.row(
                    out,
                    vec![
                        event.position.to_string(),
                        event.timestamp.as_ref().map_or("-".into(), format_time),
                        event.aggregate_id.clone(),
                        event.aggregate_type.clone().unwrap_or_else(|| "-".into()),
                        event.version.to_string(),
                        event.event_type.clone(),
                        archived_first(event, &line.notes).join("; "),
                    ],
                )
            }
        };
        match printed {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                self.error = Some(err);
                ControlFlow::Break(())
            }
        }
    }

    /// Prints what is held back and flushes, so a follower sees each poll at once.
    fn finish(&mut self, out: &mut Output) -> anyhow::Result<()> {
        if let Some(err) = self.error.take() {
            return Err(err);
        }
        if self.format == ListFormat::Table {
            self.table.flush(out)?;
        }
        out.flush()
    }
}

fn line_json(line: &LogLine, ids: &TraceIds) -> Value {
    let event = &line.event;
    let found = ids.of(event);
    let (data, raw) = match &event.data {
        Payload::Json(data) => (data.value(), Value::Null),
        Payload::Undecodable { raw, .. } => (Value::Null, Value::from(raw.as_str())),
    };
    json!({
        "position": event.position.to_json(),
        "timestamp": event.timestamp.as_ref().map(format_time),
        "aggregate_id": event.aggregate_id,
        "aggregate_type": event.aggregate_type,
        "version": event.version,
        "type": event.event_type,
        "event_id": found.event_id,
        "correlation_id": found.correlation,
        "causation_id": found.causation,
        "data": data,
        "metadata": event.metadata,
        "error": event.data.error(),
        "raw": raw,
        "warnings": line.notes,
    })
}

/// The notes of a log line, `archived` first for an event its store archived (Marten).
fn archived_first(event: &crate::model::Event, notes: &[String]) -> Vec<String> {
    let archived = event.is_archived().then(|| "archived".to_string());
    archived.into_iter().chain(notes.iter().cloned()).collect()
}
