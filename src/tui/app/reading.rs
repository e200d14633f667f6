//! Reading a big state: folding (one container, or all at once), the jq path of the line
//! cursor, and what the Compare tab compares.

use super::aggregate::AggregateView;
use super::json_tree::Node;
use super::wrap::DetailPane;
use crate::diff::JsonPath;

impl AggregateView {
    /// Folds or unfolds the container at the State tab's selected line.
    pub fn toggle_fold(&mut self, pane: DetailPane) {
        let Some(detail) = self.detail.as_mut() else {
            return;
        };
        let Some(&line) = detail.visible.get(self.state_line) else {
            return;
        };
        let Some(target) = super::json_tree::fold_target(&detail.state, line) else {
            return;
        };
        let path = detail.state[target].path.clone();
        if !self.folds.remove(&path) {
            self.folds.insert(path);
        }
        detail.refold(&self.folds);
        self.state_line = detail.visible.partition_point(|&i| i < target);
        self.keep_state_line_in_view(pane);
    }

    /// `Z`: folds to a depth, one level deeper each time, as the value viewer does: first
    /// every object and array below the top level (its keys stay in sight), then those one
    /// level down, and so on; past the deepest, everything unfolds. The cursor stays on its
    /// line or the one folded over it.
    pub fn fold_all(&mut self, pane: DetailPane) {
        let Some(detail) = self.detail.as_mut() else {
            return;
        };
        let line = detail.visible.get(self.state_line).copied().unwrap_or(0);
        let opens = |depth: usize| {
            detail
                .state
                .iter()
                .filter(move |l| l.depth >= depth && matches!(l.node, Node::Open { .. }))
        };
        // The depth folded now: that of the shallowest fold in this state.
        let folded = opens(1)
            .filter(|l| self.folds.contains(&l.path))
            .map(|l| l.depth)
            .min();
        let next = folded.map_or(1, |depth| depth + 1);
        self.folds = opens(next).map(|l| l.path.clone()).collect();
        detail.refold(&self.folds);
        self.state_line = detail
            .visible
            .partition_point(|&i| i <= line)
            .saturating_sub(1);
        self.keep_state_line_in_view(pane);
    }

    /// What the Compare tab compares: mark A with mark B, or with the cursor while B is
    /// unset, so scrubbing shows the change from A live.
    pub fn compare_pair(&self) -> Option<(usize, usize)> {
        match self.marks {
            [Some(a), Some(b)] => Some((a, b)),
            [Some(a), None] if !self.is_empty() => Some((a, self.cursor)),
            _ => None,
        }
    }

    /// The jq path of the State tab's line cursor.
    pub fn line_path(&self) -> Option<&JsonPath> {
        let detail = self.detail.as_ref()?;
        let line = *detail.visible.get(self.state_line)?;
        Some(&detail.state[line].path)
    }
}

#[cfg(test)]
mod tests {
    use crate::tui::action::{Action, Tab};
    use crate::tui::testing::{create_store, insert, open_store, row, Harness};

    /// One aggregate whose one event sets `data`, opened with the detail pane focused.
    fn one_event_store(dir: &tempfile::TempDir, data: serde_json::Value) -> Harness {
        let path = dir.path().join("one.db");
        insert(
            &create_store(&path),
            &[row("acc", 1, "Opened", &data.to_string())],
        );
        let mut h = Harness::new(open_store(&path), 100, 24);
        h.open("acc");
        h.send(Action::FocusNext);
        h
    }

    fn long_value_store(dir: &tempfile::TempDir) -> Harness {
        let note = format!("start {} THE-END", "word ".repeat(60));
        one_event_store(
            dir,
            serde_json::json!({"note": note, "limits": {"daily": 500, "monthly": 9000}}),
        )
    }

    #[test]
    fn z_folds_one_level_deeper_each_time_then_unfolds() {
        let dir = tempfile::tempdir().unwrap();
        let data = serde_json::json!({
            "owner": "ada",
            "limits": {"daily": 500, "card": {"atm": 200, "online": 900}}
        });
        let mut h = one_event_store(&dir, data);
        h.send(Action::FoldAll);
        let screen = h.screen();
        assert!(
            screen.contains("\"limits\": {…}") && !screen.contains("\"daily\""),
            "{screen}"
        );
        h.send(Action::FoldAll);
        let screen = h.screen();
        assert!(
            screen.contains("\"daily\": 500")
                && screen.contains("\"card\": {…}")
                && !screen.contains("\"atm\""),
            "depth 2: {screen}"
        );
        h.send(Action::FoldAll);
        assert!(
            h.screen().contains("\"atm\": 200"),
            "all unfolded: {}",
            h.screen()
        );
        h.send(Action::FoldAll);
        assert!(h.screen().contains("\"limits\": {…}"), "and depth 1 again");
    }

    #[test]
    fn w_wraps_and_arrows_scroll_the_pane_sideways() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = long_value_store(&dir);
        assert!(!h.screen().contains("THE-END"), "cut by default");
        assert!(h.screen().contains("…│"), "with an ellipsis");
        h.send(Action::ToggleWrap);
        assert!(h.screen().contains("THE-END"), "wrapped: {}", h.screen());
        h.send(Action::ToggleWrap);
        for _ in 0..39 {
            h.send(Action::Right);
        }
        assert_eq!(h.cursor_version(), 1, "→ scrolls, it does not step");
        assert!(h.screen().contains("THE-END"), "{}", h.screen());
        h.send(Action::Left);
        assert_eq!(h.app.view.as_ref().unwrap().hscroll, 38 * 8);
    }

    #[test]
    fn fold_all_then_unfold_all_and_the_path_of_the_line_is_shown() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = long_value_store(&dir);
        h.send(Action::FoldAll);
        let screen = h.screen();
        assert!(!screen.contains("\"daily\""), "{screen}");
        assert!(screen.contains("\"limits\": {…}"), "{screen}");
        h.send(Action::FoldAll);
        assert!(h.screen().contains("\"daily\""));
        // `/.limits.daily` jumps to that path; the pane's border names it.
        h.send(Action::Filter);
        h.type_text(".limits.daily");
        h.send(Action::Confirm);
        let screen = h.screen();
        assert!(screen.contains(" .limits.daily · after v1 "), "{screen}");
        assert_eq!(
            h.app
                .view
                .as_ref()
                .unwrap()
                .line_path()
                .map(|p| p.to_string()),
            Some(".limits.daily".into())
        );
        h.send(Action::SelectTab(Tab::Diff));
        h.send(Action::FoldAll);
        assert!(h.app.message.as_ref().unwrap().text.contains("State tab"));
    }
}

#[cfg(test)]
mod compare_tests {
    use crate::tui::action::{Action, Tab};
    use crate::tui::testing::Harness;

    fn at_version(h: &mut Harness, version: u64) {
        h.send(Action::JumpToVersion);
        h.type_text(&version.to_string());
        h.send(Action::Confirm);
    }

    #[test]
    fn with_only_mark_a_compare_follows_the_cursor_and_lists_the_events_between() {
        let mut h = Harness::demo();
        h.open("acc-0003");
        at_version(&mut h, 20);
        h.send(Action::MarkA);
        h.send(Action::OpenCompare);
        at_version(&mut h, 23);
        let screen = h.screen();
        assert!(screen.contains("A v20 → cursor v23:"), "{screen}");
        assert!(
            screen.contains("A v20 → cursor v23 · b fixes B"),
            "{screen}"
        );
        assert!(
            screen.contains("3 events from A to the cursor:"),
            "{screen}"
        );
        assert!(screen.contains("  v21 "), "{screen}");
        h.send(Action::StepForward);
        assert!(
            h.screen().contains("A v20 → cursor v24:"),
            "live while scrubbing"
        );
        h.send(Action::ClearMarks);
        assert_eq!(h.app.view.as_ref().unwrap().marks, [None, None]);
        assert!(h.screen().contains("Compare two points"), "{}", h.screen());
        assert_eq!(h.app.view.as_ref().unwrap().tab, Tab::Compare);
    }
}
