use std::collections::HashMap;

use serde_json::{json, Value};

use crate::diff::JsonPath;
use crate::display::counted;
use crate::inspect::{verify_aggregate, Drift};

use super::output::{truncate, Align, Output, Table};
use super::{ListFormat, Session, EXIT_FOUND, EXIT_OK};

const VALUE_PREVIEW: usize = 48;

pub fn run(
    session: &Session,
    aggregate: Option<&str>,
    ignore: &[String],
    format: ListFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let ignore: Vec<JsonPath> = ignore
        .iter()
        .map(|p| JsonPath::parse(p))
        .collect::<Result<_, _>>()?;
    // The list counts every snapshot row; those a replay cannot place (no whole-number
    // version) are said below rather than silently left unchecked.
    let summaries = session.source.aggregates()?;
    let ids: Vec<String> = match aggregate {
        Some(id) => vec![id.to_string()],
        None => summaries.iter().map(|a| a.id.clone()).collect(),
    };
    let listed: HashMap<String, u64> = summaries.into_iter().map(|a| (a.id, a.snapshots)).collect();
    let (mut checked, mut drifts) = (0, Vec::new());
    let mut reducer = session
        .named_reducer
        .as_ref()
        .map(|r| r.name())
        .unwrap_or_else(|| "merge".into());
    for id in &ids {
        let mut replay = session.replay_for_one_pass(id)?;
        reducer = replay.reducer_name();
        let (count, found) = verify_aggregate(id, &mut replay, &ignore)?;
        super::session::report_step_problems(id, &replay, replay.len());
        let unplaced = listed
            .get(id)
            .copied()
            .unwrap_or(0)
            .saturating_sub(count as u64);
        if unplaced > 0 {
            super::output::warn_after(format!(
                "{} of {id} {} no whole-number version, so {} not checked",
                counted(unplaced as usize, "snapshot"),
                if unplaced == 1 { "has" } else { "have" },
                if unplaced == 1 { "it was" } else { "they were" },
            ));
        }
        checked += count;
        drifts.extend(found);
    }
    match format {
        ListFormat::Json => out.json(&json!({
            "aggregates": ids.len(),
            "snapshots_checked": checked,
            "drifting": drifts.len(),
            "reducer": reducer,
            "mismatches": drifts.iter().map(drift_json).collect::<Vec<_>>(),
        }))?,
        ListFormat::Table => {
            if !drifts.is_empty() {
                out.text(&table(&drifts))?;
            }
            out.line(&format!(
                "{} in {} checked with the {} reducer: {}",
                counted(checked, "snapshot"),
                counted(ids.len(), "aggregate"),
                reducer,
                match drifts.len() {
                    0 => "all agree with replay".to_string(),
                    1 => "1 drifts".to_string(),
                    n => format!("{n} drift"),
                }
            ))?;
        }
    }
    Ok(if drifts.is_empty() {
        EXIT_OK
    } else {
        EXIT_FOUND
    })
}

fn drift_json(drift: &Drift) -> Value {
    json!({
        "aggregate": drift.aggregate,
        "version": drift.version,
        "differences": drift.rows().into_iter().map(|(path, expected, actual)| json!({
            "path": path, "expected": expected, "actual": actual,
        })).collect::<Vec<_>>(),
    })
}

fn table(drifts: &[Drift]) -> String {
    let mut table = Table::new(&[
        ("AGGREGATE", Align::Left),
        ("SNAPSHOT", Align::Right),
        ("PATH", Align::Left),
        ("STORED", Align::Left),
        ("REPLAYED", Align::Left),
    ]);
    let show = |v: &Option<Value>| {
        v.as_ref().map_or("(absent)".into(), |v| {
            truncate(&v.to_string(), VALUE_PREVIEW)
        })
    };
    for drift in drifts {
        for (path, expected, actual) in drift.rows() {
            table.row(vec![
                drift.aggregate.clone(),
                format!("v{}", drift.version),
                path,
                show(&expected),
                show(&actual),
            ]);
        }
    }
    table.render()
}
