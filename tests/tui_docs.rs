//! docs/TUI.md's key table is the keymap's own: run with REWIND_UPDATE_DOCS=1 to rewrite it.

use rewind::tui::keymap::markdown_table;

const START: &str = "<!-- keys:start -->";
const END: &str = "<!-- keys:end -->";

#[test]
fn the_documented_keys_are_the_bound_keys() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/TUI.md");
    let doc = std::fs::read_to_string(&path).expect("read docs/TUI.md");
    let (before, rest) = doc
        .split_once(START)
        .expect("docs/TUI.md has the keys:start marker");
    let (current, after) = rest
        .split_once(END)
        .expect("docs/TUI.md has the keys:end marker");
    let wanted = markdown_table();
    if std::env::var("REWIND_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, format!("{before}{START}\n{wanted}{END}{after}")).unwrap();
        return;
    }
    assert_eq!(
        current.trim(),
        wanted.trim(),
        "docs/TUI.md's key table is out of date; rerun with REWIND_UPDATE_DOCS=1"
    );
}
