use crate::diff::pretty;
use crate::model::{format_time, Position};
use crate::replay::{Replay, StepProblem};

use super::output::{terminal_safe, Output};
use super::{Session, StateFormat, EXIT_OK};

pub fn run(
    session: &Session,
    aggregate: &str,
    position: Option<Position>,
    format: StateFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut replay = session.replay(aggregate)?;
    let count = match position {
        Some(position) => replay.resolve(position)?,
        None => replay.len(),
    };
    let version = replay.version_after(count);
    let time = count
        .checked_sub(1)
        .and_then(|i| replay.events()[i].timestamp)
        .map_or("-".to_string(), |t| format_time(&t));
    report_reducer_failures(&replay, count);
    let state = replay.state_after(count).clone();
    match format {
        StateFormat::Json => out.line(&serde_json::to_string(&state)?)?,
        StateFormat::Pretty => {
            out.line(&format!(
                "# {} at v{version} ({count} of {} events, {time})",
                terminal_safe(aggregate),
                replay.len()
            ))?;
            out.text(&pretty(&state))?;
        }
    }
    Ok(EXIT_OK)
}

/// A reducer that failed on events before the position says so on stderr, in one line: the
/// state shown is the one without those events.
fn report_reducer_failures(replay: &Replay, count: usize) {
    let mut failed = replay
        .problems()
        .filter_map(|(index, problem)| match problem {
            StepProblem::ReducerFailed(err) if index < count => Some((index, err)),
            _ => None,
        });
    if let Some((index, err)) = failed.next() {
        eprintln!(
            "rewind: the reducer failed on {} events (first at v{}: {})",
            failed.count() + 1,
            replay.events()[index].version,
            terminal_safe(err)
        );
    }
}
