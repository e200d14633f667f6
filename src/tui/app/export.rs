//! `e`: write the history between marks A and B (or all of it) as a transcript. The
//! prompts ask for the format and the file; the loader writes it (see `tui::jobs`).

use std::path::PathBuf;

use super::{App, PromptKind};
use crate::export::Format;
use crate::tui::jobs::{ExportFailure, ExportJob, JobKind, Written};

/// What `e` offers to write: `acc-0007-v12-v31.md` for marks A and B, `acc-0007.md` without.
pub fn default_file_name(aggregate_id: &str, range: Option<(u64, u64)>, format: Format) -> String {
    let safe: String = aggregate_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let extension = match format {
        Format::Markdown => "md",
        Format::JsonLines => "jsonl",
        Format::Html => "html",
    };
    match range {
        Some((from, to)) => format!("{safe}-v{from}-v{to}.{extension}"),
        None => format!("{safe}.{extension}"),
    }
}

pub fn format_name(format: Format) -> &'static str {
    match format {
        Format::Markdown => "Markdown",
        Format::JsonLines => "JSON Lines",
        Format::Html => "HTML",
    }
}

impl App {
    /// The versions of marks A and B, earlier first, when both are set.
    pub fn export_range(&self) -> Option<(u64, u64)> {
        let view = self.view.as_ref()?;
        let [Some(a), Some(b)] = view.marks else {
            return None;
        };
        let version = |i: usize| view.version_of(i);
        Some((version(a.min(b)), version(a.max(b))))
    }

    /// `e`: ask for the format first.
    pub(super) fn ask_export_format(&mut self) {
        let Some(view) = self.view.as_ref() else {
            return;
        };
        if view.is_empty() {
            self.say("no events to export");
        } else if self.exporting.is_some() {
            self.say("still writing the last export…");
        } else {
            self.open_prompt(PromptKind::ExportFormat, String::new());
        }
    }

    pub(super) fn ask_export_path(&mut self, format: Format) {
        let Some(view) = self.view.as_ref() else {
            return;
        };
        let name = default_file_name(&view.summary.id, self.export_range(), format);
        self.open_prompt(PromptKind::ExportPath(format), name);
    }

    pub(super) fn start_export(&mut self, format: Format, path: PathBuf, force: bool) {
        let job = ExportJob {
            format,
            range: self.export_range(),
            path,
            force,
            source_name: self.source_name.clone(),
            redact: self.redact.clone(),
        };
        self.exporting = self.start_job(JobKind::Export(job)).map(|t| (t, format));
        self.say("exporting…");
    }

    pub(super) fn on_exported(&mut self, ticket: u64, result: Result<Written, ExportFailure>) {
        let Some((_, format)) = self.exporting.filter(|(t, _)| *t == ticket) else {
            return;
        };
        self.exporting = None;
        match result {
            Ok(written) => {
                let noun = if written.events == 1 {
                    "event"
                } else {
                    "events"
                };
                let wrote = format!(
                    "wrote {} ({} {noun})",
                    written.path.display(),
                    written.events
                );
                match written.unmatched_redactions.as_slice() {
                    [] => self.say(wrote),
                    unmatched => self.complain(format!(
                        "{wrote}, but redact {} matched nothing and hid nothing (check the path)",
                        unmatched.join(", ")
                    )),
                }
            }
            Err(ExportFailure::Exists(path)) => {
                self.open_prompt(PromptKind::Overwrite { format, path }, String::new());
            }
            Err(ExportFailure::Failed(error)) => self.complain(format!("export failed: {error}")),
        }
    }
}
