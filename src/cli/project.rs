//! `rewind project`: the whole store folded into one read model by a jq program, as of any
//! instant, or what changed in it between two.

use std::path::PathBuf;

use serde_json::json;

use crate::diff::{changes, json_patch, pretty, summary};
use crate::inspect::{project, Instant, ReadModel};
use crate::model::{format_time, SincePoint};
use crate::replay::JqReducer;

use super::output::{warn, Output};
use super::{Session, EXIT_OK};

/// The widest value a change line shows.
const VALUE_WIDTH: usize = 120;

#[derive(Debug, clap::Args)]
pub struct ProjectArgs {
    pub source: String,
    /// The jq program that folds events into the read model: `.` is the model (`null` at
    /// first), `$event` the event (with `aggregate_id`, `aggregate_type`, `position`).
    #[arg(long, value_name = "FILE")]
    projection: PathBuf,
    /// Fold the events up to this store position or time [default: every event].
    #[arg(long, value_name = "POS_OR_TIME", conflicts_with_all = ["from", "to"])]
    at: Option<String>,
    /// With --to: the read model at this instant is compared with the one at --to.
    #[arg(long, value_name = "POS_OR_TIME", requires = "to")]
    from: Option<String>,
    /// With --from: show what changed in the read model between the two instants.
    #[arg(long, value_name = "POS_OR_TIME", requires = "from")]
    to: Option<String>,
    /// `pretty` (the model, or its changes, for people), `json`, or `patch` (RFC 6902,
    /// with --from/--to).
    #[arg(long, value_enum, default_value_t = ProjectFormat::Pretty)]
    format: ProjectFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProjectFormat {
    Pretty,
    Json,
    Patch,
}

pub fn run(session: &Session, args: ProjectArgs, out: &mut Output) -> anyhow::Result<u8> {
    let instant = |text: &Option<String>| -> anyhow::Result<Instant> {
        Ok(
            match text.as_deref().map(str::parse::<SincePoint>).transpose()? {
                None => Instant::Latest,
                Some(SincePoint::Time(time)) => Instant::Time(time),
                Some(SincePoint::Position(input)) => {
                    Instant::Position(session.source.resolve_position(input)?)
                }
            },
        )
    };
    let instants = match (&args.from, &args.to) {
        (Some(_), Some(_)) => vec![instant(&args.from)?, instant(&args.to)?],
        _ => vec![instant(&args.at)?],
    };
    if instants.len() == 1 && args.format == ProjectFormat::Patch {
        anyhow::bail!("--format patch shows a change: give --from and --to");
    }
    let code = crate::files::bounded::read_small_text(&args.projection).map_err(|err| {
        anyhow::anyhow!(
            "cannot read projection {}: {err}",
            args.projection.display()
        )
    })?;
    let origin = args.projection.display().to_string();
    let projection = JqReducer::new(&code, &origin, session.jq_limits)?;
    let models = project(session.source.as_ref(), &projection, &instants)?;
    // The later instant's failures include the earlier's, as far as they overlap: say them once.
    if let Some(model) = models.last() {
        report(&origin, model);
    }
    match models.as_slice() {
        [model] => print_model(model, &origin, args.format, out)?,
        [from, to] => print_change(from, to, &origin, args.format, out)?,
        _ => unreachable!("one or two instants"),
    }
    Ok(EXIT_OK)
}

fn instant_text(instant: &Instant) -> String {
    match instant {
        Instant::Latest => "the latest event".into(),
        Instant::Position(position) => format!("position {position}"),
        Instant::Time(time) => format_time(time),
    }
}

fn instant_json(model: &ReadModel) -> serde_json::Value {
    let at = match &model.instant {
        Instant::Latest => json!(null),
        Instant::Position(position) => json!({"position": position.to_json()}),
        Instant::Time(time) => json!({"time": format_time(time)}),
    };
    json!({"at": at, "events": model.events, "failed": model.failed})
}

/// Each failing event, at its position, as reducers report theirs; the fold went on.
fn report(origin: &str, model: &ReadModel) {
    for error in &model.errors {
        warn(&format!(
            "{origin} failed at position {} ({} v{}), which it skipped: {}",
            error.position, error.aggregate, error.version, error.message
        ));
    }
    if model.failed > model.errors.len() {
        warn(&format!(
            "{origin} failed on {} more events up to {}",
            model.failed - model.errors.len(),
            instant_text(&model.instant)
        ));
    }
}

fn print_model(
    model: &ReadModel,
    origin: &str,
    format: ProjectFormat,
    out: &mut Output,
) -> anyhow::Result<()> {
    match format {
        ProjectFormat::Json => out.json_line(&model.model),
        _ => {
            out.line(&format!(
                "# {origin} at {}: {} events folded",
                instant_text(&model.instant),
                model.events
            ))?;
            out.text(&pretty(&model.model))
        }
    }
}

fn print_change(
    from: &ReadModel,
    to: &ReadModel,
    origin: &str,
    format: ProjectFormat,
    out: &mut Output,
) -> anyhow::Result<()> {
    let found = changes(&from.model, &to.model);
    match format {
        ProjectFormat::Patch => out.json(&json_patch(&from.model, &to.model)),
        ProjectFormat::Json => out.json(&json!({
            "from": instant_json(from),
            "to": instant_json(to),
            "changes": found,
        })),
        ProjectFormat::Pretty => {
            out.line(&format!(
                "# {origin} from {} ({} events) to {} ({} events): {} change{}",
                instant_text(&from.instant),
                from.events,
                instant_text(&to.instant),
                to.events,
                found.len(),
                if found.len() == 1 { "" } else { "s" }
            ))?;
            out.text(&summary(&found, VALUE_WIDTH))
        }
    }
}
