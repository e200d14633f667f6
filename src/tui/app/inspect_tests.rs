//! Headless blame, event filter, export and transcripts: keys in, state and files out.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::diff::JsonPath;
use crate::export::{ExportOptions, Format};
use crate::model::Position;
use crate::replay::JqReducer;
use crate::source::transcript::TranscriptSource;
use crate::tui::action::{Action, Tab};
use crate::tui::testing::{demo_path, open_store, Harness};

fn view(h: &Harness) -> &AggregateView {
    h.app.view.as_ref().expect("an aggregate is open")
}

fn at_version(h: &mut Harness, version: u64) {
    h.send(Action::JumpToVersion);
    h.type_text(&version.to_string());
    h.send(Action::Confirm);
}

fn message(h: &Harness) -> String {
    h.app
        .message
        .as_ref()
        .map_or(String::new(), |m| m.text.clone())
}

/// Focuses the State tab and moves its line cursor onto the line of `path`.
pub fn select_state_line(h: &mut Harness, path: &str) {
    let wanted = JsonPath::parse(path).unwrap();
    h.send(Action::SelectTab(Tab::State));
    if view(h).focus != Focus::Detail {
        h.send(Action::FocusNext);
    }
    let detail = view(h).detail.as_ref().unwrap();
    let row = detail
        .visible
        .iter()
        .position(|&i| detail.state[i].path == wanted)
        .unwrap_or_else(|| panic!("{path} is not a line of the state"));
    let up = view(h).state_line;
    h.send_all(std::iter::repeat_n(Action::Up, up));
    h.send_all(std::iter::repeat_n(Action::Down, row));
    assert_eq!(view(h).state_line, row);
}

#[test]
fn blame_lists_who_changed_the_line_and_enter_goes_there() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    at_version(&mut h, 31);
    select_state_line(&mut h, ".balance");
    h.app.update(Action::Blame);
    let blame = view(&h).blame.as_ref().expect("the blame overlay opens");
    assert_eq!(blame.lines, None, "computed by the loader, not in update");
    assert_eq!(h.app.context(), crate::tui::keymap::Context::Blame);
    assert!(h.screen().contains("blaming .balance over 49 events…"));

    h.pump();
    let blame = view(&h).blame.as_ref().unwrap();
    let lines = blame.lines.as_ref().expect("answered");
    assert_eq!(
        lines.len(),
        40,
        "as `rewind blame demo.db acc-0007 .balance`"
    );
    let selected = &lines[blame.selected];
    assert_eq!(
        view(&h).version_of(selected.index),
        31,
        "starts on the change that made the value shown"
    );
    assert_eq!(selected.new, Some(serde_json::json!(-35.5)));

    h.send_all([Action::First, Action::Down]);
    h.send(Action::Confirm);
    assert!(view(&h).blame.is_none());
    assert_eq!(h.cursor_version(), 2, "the second change of .balance");
}

#[test]
fn blame_from_the_event_list_first_asks_for_a_line() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Blame);
    assert!(view(&h).blame.is_none());
    assert_eq!(view(&h).focus, Focus::Detail);
    assert!(message(&h).contains("then press B"), "{}", message(&h));
    h.send(Action::Blame);
    h.send(Action::Back);
    assert!(view(&h).blame.is_none(), "Esc closes");
    assert!(h.app.view.is_some(), "and stays in the aggregate");
}

#[test]
fn a_jq_filter_lands_on_the_first_match() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Filter);
    h.type_text(".balance < 0");
    h.app.update(Action::Confirm);
    let filter = view(&h).filter.as_ref().unwrap();
    assert_eq!(filter.kind, FilterKind::Jq);
    assert_eq!(filter.matches, None, "judged by the loader");
    h.pump();
    assert_eq!(view(&h).filter.as_ref().unwrap().matches, Some(vec![30]));
    assert_eq!(h.cursor_version(), 31);
    assert_eq!(message(&h), "1 match for .balance < 0; n/N next/previous");

    h.send(Action::Cancel);
    assert!(view(&h).filter.is_none(), "Esc clears the filter");
    assert!(h.app.view.is_some());
}

#[test]
fn a_text_filter_matches_types_and_n_walks_the_matches() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Filter);
    h.type_text("withdrawn");
    h.send(Action::Confirm);
    let matches = view(&h).filter.as_ref().unwrap().matches.clone().unwrap();
    assert!(matches.len() >= 2, "{matches:?}");
    assert!(matches.iter().all(|&i| view(&h).type_of(i) == "Withdrawn"));
    assert_eq!(view(&h).cursor, matches[0]);
    h.send(Action::NextMatch);
    assert_eq!(view(&h).cursor, matches[1]);
    h.send(Action::PrevMatch);
    assert_eq!(view(&h).cursor, matches[0]);
    h.send(Action::PrevMatch);
    assert_eq!(view(&h).cursor, *matches.last().unwrap(), "wraps around");
    assert!(message(&h).contains("on to the last"));
}

#[test]
fn a_bad_jq_filter_is_a_one_line_message() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Filter);
    h.type_text(".balance <");
    h.send(Action::Confirm);
    let error = h.app.prompt.as_ref().and_then(|p| p.error.clone()).unwrap();
    assert!(!error.contains('\n'), "{error}");
    assert!(view(&h).filter.is_none());
    assert_eq!(h.cursor_version(), 1);
}

#[test]
fn export_writes_marks_a_to_b_and_asks_before_replacing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::demo();
    h.open("acc-0007");
    at_version(&mut h, 31);
    h.send(Action::MarkB);
    at_version(&mut h, 12);
    h.send(Action::MarkA);
    h.send(Action::Export);
    assert_eq!(
        h.app.prompt.as_ref().unwrap().kind,
        PromptKind::ExportFormat
    );
    h.send(Action::InputChar('x'));
    assert!(h.app.prompt.as_ref().unwrap().error.is_some());
    h.send(Action::InputChar('m'));
    let prompt = h.app.prompt.as_ref().unwrap();
    assert_eq!(prompt.kind, PromptKind::ExportPath(Format::Markdown));
    assert_eq!(prompt.input(), "acc-0007-v12-v31.md");

    let path = dir.path().join("acc-0007-v12-v31.md");
    let write = |h: &mut Harness| {
        h.send(Action::Export);
        h.send(Action::InputChar('m'));
        h.app
            .prompt
            .as_mut()
            .unwrap()
            .set_input(path.to_string_lossy().into_owned());
        h.send(Action::Confirm);
    };
    h.send(Action::Back);
    write(&mut h);
    assert_eq!(message(&h), format!("wrote {} (19 events)", path.display()));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("acc-0007"), "{text}");
    assert!(text.contains("v31"), "{text}");

    std::fs::write(&path, "keep me").unwrap();
    write(&mut h);
    assert!(matches!(
        h.app.prompt.as_ref().unwrap().kind,
        PromptKind::Overwrite { .. }
    ));
    h.send(Action::InputChar('n'));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    write(&mut h);
    h.send(Action::InputChar('y'));
    assert!(message(&h).starts_with("wrote "), "{}", message(&h));
    assert_ne!(std::fs::read_to_string(&path).unwrap(), "keep me");
}

/// A redacted path that matches nothing hid nothing: the status line says so, as the CLI
/// does on stderr, and the file is still written.
#[test]
fn an_export_says_which_redactions_matched_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::demo_with(|app| {
        app.redact = vec![
            JsonPath::parse(".owner").unwrap(),
            JsonPath::parse(".ownr").unwrap(),
        ];
    });
    h.open("acc-0007");
    let path = dir.path().join("acc-0007.jsonl");
    h.send(Action::Export);
    h.send(Action::InputChar('j'));
    h.app
        .prompt
        .as_mut()
        .unwrap()
        .set_input(path.to_string_lossy().into_owned());
    h.send(Action::Confirm);
    let said = message(&h);
    assert!(
        said.starts_with(&format!("wrote {}", path.display())),
        "{said}"
    );
    assert!(said.contains("redact .ownr matched nothing"), "{said}");
    assert!(!said.contains(".owner,"), "{said}");
    let header = std::fs::read_to_string(&path).unwrap();
    assert!(header.lines().next().unwrap().contains(".ownr"), "{header}");
}

#[test]
fn without_both_marks_export_offers_the_whole_history() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Export);
    h.send(Action::InputChar('j'));
    assert_eq!(h.app.prompt.as_ref().unwrap().input(), "acc-0007.jsonl");
}

/// A transcript of v10 on, made with a jq reducer that counts events: the UI must show the
/// recorded states, starting from the recorded state at v10.
#[test]
fn a_transcript_shows_exactly_the_recorded_states() {
    let dir = tempfile::tempdir().unwrap();
    let counting = JqReducer::new(
        "{n: ((.n // 0) + 1), balance: $event.data.balance}",
        "count.jq",
        Duration::from_secs(1),
    )
    .unwrap();
    let store = open_store(&demo_path());
    let mut original = crate::load::replay(store.as_ref(), "acc-0007", Arc::new(counting)).unwrap();
    let path = dir.path().join("acc-0007.jsonl");
    let options = ExportOptions {
        format: Format::JsonLines,
        source: "demo".into(),
        aggregate: "acc-0007".into(),
        from: Some(Position::Version(10)),
        to: None,
        with_state: false,
        redact: Vec::new(),
        generated_at: None,
    };
    let mut file = std::fs::File::create(&path).unwrap();
    crate::export::export(&mut original, &options, &mut file).unwrap();

    let source = TranscriptSource::open(&path).unwrap();
    let recorded = crate::load::reducer_for(&source, "acc-0007", None);
    assert_eq!(
        recorded.name(),
        "jq:count.jq",
        "a transcript records its states"
    );
    // What `rewind state transcript.jsonl acc-0007 --at-version 20` prints.
    let mut cli = crate::load::replay(&source, "acc-0007", recorded).unwrap();
    let expected = cli.state_at(Position::Version(20)).unwrap().clone();
    assert_eq!(expected["n"], 20);
    drop(cli);

    // No reducer named: the UI gets the recorded states from the loader, as data.
    let mut h = Harness::new(Box::new(source), 120, 32);
    h.send_all([Action::Confirm, Action::First]);
    assert_eq!(view(&h).replay.start_version(), 10);
    h.send(Action::SelectTab(Tab::Diff));
    let screen = h.screen();
    assert!(
        screen.contains("~ .n: 10 → 11"),
        "v11 applies to v10's state:\n{screen}"
    );

    at_version(&mut h, 20);
    let shown = view(&h).version_of(view(&h).cursor);
    assert_eq!(shown, 20);
    h.send(Action::SelectTab(Tab::State));
    let state_text: String = {
        let detail = view(&h).detail.as_ref().unwrap();
        detail
            .visible
            .iter()
            .map(|&i| line_text(&detail.state, i, false))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(state_text, serde_json::to_string_pretty(&expected).unwrap());
}

/// Event types in wide characters (CJK, two cells each) keep blame's CHANGE column in line:
/// widths are counted in terminal cells, not characters.
#[test]
fn blame_columns_line_up_with_wide_event_types() {
    use crate::tui::testing::{create_store, insert, open_store, row};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.db");
    let conn = create_store(&path);
    insert(
        &conn,
        &[
            row("w", 1, "入金", r#"{"balance": 1}"#),
            row("w", 2, "出金処理", r#"{"balance": 2}"#),
            row("w", 3, "Noted", r#"{"balance": 3}"#),
        ],
    );
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.open("w");
    select_state_line(&mut h, ".balance");
    h.send(Action::Blame);
    let terminal = h.terminal();
    let buffer = terminal.backend().buffer();
    // Each change reads `X → Y` with a one-cell X: the arrows stand in one column.
    let arrows: Vec<u16> = (0..buffer.area.height)
        .filter_map(|y| {
            (0..buffer.area.width)
                .rev()
                .find(|&x| buffer[(x, y)].symbol() == "→")
        })
        .collect();
    assert_eq!(arrows.len(), 3, "{}", h.screen());
    assert!(
        arrows.iter().all(|&x| x == arrows[0]),
        "{arrows:?}\n{}",
        h.screen()
    );
    assert!(h.screen().contains('出'), "{}", h.screen());
}
