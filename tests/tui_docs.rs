//! The key tables in README.md and docs/TUI.md are the keymap's own: run with
//! REWIND_UPDATE_DOCS=1 to rewrite them.

use rewind::tui::keymap::markdown_table;

const START: &str = "<!-- keys:start -->";
const END: &str = "<!-- keys:end -->";

#[test]
fn the_documented_keys_are_the_bound_keys() {
    for name in ["README.md", "docs/TUI.md"] {
        check(name);
    }
}

fn check(name: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let doc = std::fs::read_to_string(&path).expect("read the doc");
    let (before, rest) = doc
        .split_once(START)
        .unwrap_or_else(|| panic!("{name} has no {START} marker"));
    let (current, after) = rest
        .split_once(END)
        .unwrap_or_else(|| panic!("{name} has no {END} marker"));
    let wanted = markdown_table();
    if std::env::var("REWIND_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, format!("{before}{START}\n{wanted}{END}{after}")).unwrap();
        return;
    }
    assert_eq!(
        current.trim(),
        wanted.trim(),
        "{name}'s key table is out of date; rerun with REWIND_UPDATE_DOCS=1"
    );
}
