use serde_json::json;

use crate::diff::unified;
use crate::inspect::{bisect, Predicate};
use crate::model::format_time;

use super::output::{terminal_safe, warn, Output};
use super::{ListFormat, Session, EXIT_FOUND, EXIT_OK};

pub fn run(
    session: &Session,
    aggregate: &str,
    until: &str,
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let predicate = Predicate::new(until, "--until", session.jq_limits)?;
    let mut replay = session.replay(aggregate)?;
    let result = bisect(&mut replay, &predicate)?;
    let judged = result.found.map_or(replay.len(), |index| index + 1);
    super::session::report_step_problems(aggregate, &replay, judged);
    if let Some((index, err)) = &result.run.first_error {
        warn(&format!(
            "the predicate failed on {} events (first at v{}: {err})",
            result.run.errors,
            replay.entry(*index).map_or(0, |e| e.version),
        ));
    }
    let Some(index) = result.found else {
        match format {
            ListFormat::Json => out.json(&json!({"found": false, "events": replay.len()}))?,
            ListFormat::Table => out.line(&format!(
                "{until} never became true in {} events of {}",
                replay.len(),
                terminal_safe(aggregate)
            ))?,
        }
        return Ok(EXIT_FOUND);
    };
    let event = replay.event(index)?;
    let time = event.timestamp.as_ref().map_or("-".into(), format_time);
    match format {
        ListFormat::Json => out.json(&json!({
            "found": true,
            "version": event.version,
            "index": index,
            "type": event.event_type,
            "timestamp": event.timestamp.as_ref().map(format_time),
            "data": event.data.json(),
            "metadata": event.metadata,
            "changes": result.changes,
        }))?,
        ListFormat::Table => {
            out.line(&format!(
                "{until} first holds after v{} ({time}) {}",
                event.version,
                terminal_safe(&event.event_type)
            ))?;
            if let Some(data) = event.data.json() {
                out.line(&format!("event data: {data}"))?;
            }
            let (before, after) = replay.step(index)?;
            let label = |v: u64| format!("{}@v{v}", terminal_safe(aggregate));
            let previous = replay.version_after(index);
            let diff = unified(&before, &after, &label(previous), &label(event.version));
            out.painted(&diff, super::output::color::unified_line)?;
        }
    }
    Ok(EXIT_OK)
}
