use serde_json::json;

use crate::diff::{changes, json_patch, summary, unified};
use crate::model::Position;

use super::output::color;
use super::output::{terminal_safe, Output};
use super::{DiffFormat, Session, EXIT_OK};

/// Columns each value of a summary line may take before it is cut with an ellipsis.
const SUMMARY_VALUE_WIDTH: usize = 120;

pub fn run(
    session: &Session,
    aggregate: &str,
    from: Option<Position>,
    to: Option<Position>,
    format: DiffFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut replay = session.replay_states_only(aggregate)?;
    let from_count = from.map(|p| replay.resolve(p)).transpose()?.unwrap_or(0);
    let to_count = to
        .map(|p| replay.resolve(p))
        .transpose()?
        .unwrap_or(replay.len());
    super::session::report_step_problems(aggregate, &replay, from_count.max(to_count));
    let old = replay.state_after(from_count)?.clone();
    let new = replay.state_after(to_count)?.clone();
    let (from_version, to_version) = (
        replay.version_after(from_count),
        replay.version_after(to_count),
    );
    match format {
        DiffFormat::Patch => out.json(&json_patch(&old, &new))?,
        DiffFormat::Json => out.json(&json!({
            "aggregate": aggregate,
            "from": {"version": from_version, "events": from_count},
            "to": {"version": to_version, "events": to_count},
            "changes": changes(&old, &new),
        }))?,
        DiffFormat::Unified => {
            let label = |v: u64| format!("{}@v{v}", terminal_safe(aggregate));
            let text = unified(&old, &new, &label(from_version), &label(to_version));
            out.painted(&text, color::unified_line)?
        }
        DiffFormat::Summary => out.painted(
            &summary(&changes(&old, &new), SUMMARY_VALUE_WIDTH),
            color::summary_line,
        )?,
    }
    Ok(EXIT_OK)
}
