use serde_json::{json, Value};

use crate::diff::JsonPath;
use crate::inspect::{blame_each, BlameLine};
use crate::model::format_time;

use super::output::{truncate, Align, JsonArray, Output};
use super::stream_table::StreamTable;
use super::{ListFormat, Session, EXIT_OK};

const VALUE_PREVIEW: usize = 48;

/// Every event that changed the value at a path, printed as each is found.
pub fn run(
    session: &Session,
    aggregate: &str,
    path: &str,
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let path = JsonPath::parse(path)?;
    let mut replay = session.replay_states_only(aggregate)?;
    let mut table = StreamTable::new(&[
        ("VERSION", Align::Right),
        ("TIMESTAMP", Align::Left),
        ("TYPE", Align::Left),
        ("CHANGE", Align::Left),
    ]);
    let mut array = JsonArray::default();
    let (mut found, mut failed) = (0usize, None);
    blame_each(&mut replay, &path, &mut |line| {
        if failed.is_some() {
            return;
        }
        found += 1;
        let printed = match format {
            ListFormat::Json => array.push(out, &line_json(&line)),
            ListFormat::Table => table.row(out, line_row(&line)),
        };
        failed = printed.err();
    })?;
    if let Some(err) = failed {
        return Err(err);
    }
    super::session::report_step_problems(aggregate, &replay, replay.len());
    match format {
        ListFormat::Json => array.finish(out)?,
        ListFormat::Table => {
            table.flush(out)?;
            if found == 0 {
                out.line(&format!("no event changed {path}"))?;
            }
        }
    }
    Ok(EXIT_OK)
}

fn line_json(line: &BlameLine) -> Value {
    json!({
        "version": line.version,
        "timestamp": line.timestamp.as_ref().map(format_time),
        "type": line.event_type,
        "old": line.old,
        "new": line.new,
    })
}

fn line_row(line: &BlameLine) -> Vec<String> {
    let show = |v: &Option<Value>| {
        v.as_ref().map_or("(absent)".into(), |v| {
            truncate(&v.to_string(), VALUE_PREVIEW)
        })
    };
    vec![
        line.version.to_string(),
        line.timestamp.as_ref().map_or("-".into(), format_time),
        line.event_type.clone(),
        format!("{} → {}", show(&line.old), show(&line.new)),
    ]
}
