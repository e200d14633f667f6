use crate::diff::pretty;
use crate::model::{format_time, Position};

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
    super::session::report_reducer_failures(aggregate, &replay, count);
    let version = replay.version_after(count);
    let time = count
        .checked_sub(1)
        .and_then(|i| replay.events()[i].timestamp)
        .map_or("-".to_string(), |t| format_time(&t));
    let state = replay.state_after(count).clone();
    match format {
        StateFormat::Json => out.json_line(&state)?,
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
