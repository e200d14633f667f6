//! Everything that can happen to the UI, as one enum: keys map onto it (keymap.rs), the
//! background loader reports through it, and `App::update` is the only thing that acts on it.

use serde::{Deserialize, Serialize};

use super::loader::Report;

/// Which pane of an aggregate's screen has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Events,
    Detail,
}

/// The panes of the detail view, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    State,
    Diff,
    Event,
    Compare,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::State, Tab::Diff, Tab::Event, Tab::Compare];

    pub fn title(self) -> &'static str {
        match self {
            Tab::State => "State",
            Tab::Diff => "Diff",
            Tab::Event => "Event",
            Tab::Compare => "Compare",
        }
    }

    /// How the tab bar writes it: `1 State`.
    pub fn label(self) -> String {
        format!("{} {}", self.index() + 1, self.title())
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// What `y`, `Y` and Ctrl-Y copy from the detail pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Copy {
    /// The value at the State line (the event's data, the Diff or Compare text).
    Value,
    /// The jq path of the State line.
    Path,
    /// The whole state (or the event's data, the tab's text).
    All,
}

/// A prompt's line editing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    Left,
    Right,
    WordLeft,
    WordRight,
    Home,
    End,
    /// Delete: the character under the cursor.
    DeleteNext,
    /// Ctrl-U: everything before the cursor.
    KillToStart,
    /// Ctrl-W: the word before the cursor.
    KillWord,
    /// Ctrl-K: everything from the cursor on.
    KillToEnd,
    /// ↑: the previous line typed in this prompt.
    Older,
    /// ↓: back towards the line being typed.
    Newer,
}

/// Serialized names are snake_case (`step_forward`, `select_tab`), so a config file can bind
/// keys to them. Variants that only the runtime produces are not (de)serializable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Previous row: aggregate, event, or line in the focused detail pane.
    Up,
    Down,
    StepBack,
    StepForward,
    /// ←/→: a step, or a sideways scroll in the focused detail pane.
    Left,
    Right,
    PageUp,
    PageDown,
    First,
    Last,
    PrevSnapshot,
    NextSnapshot,
    /// Opens the "jump to version" prompt.
    JumpToVersion,
    /// Opens the "jump to time" prompt.
    JumpToTime,
    MarkA,
    MarkB,
    /// `M`: set mark A or B at a typed version or time.
    MarkAt,
    OpenCompare,
    /// `u`: times in the local zone, or as stored.
    ToggleZone,
    /// `x`: clear marks A and B.
    ClearMarks,
    SelectTab(Tab),
    FocusNext,
    ToggleFold,
    /// `Z`: fold every object below the top level, or unfold everything.
    FoldAll,
    /// `1`..`9` in the value viewer: fold every object at that depth or deeper.
    FoldDepth(u8),
    /// Enter on a State line: its value full screen.
    OpenValue,
    /// `v` in the value viewer: the value in `$PAGER`.
    Page,
    /// `o`: the focused pane fills the screen, or all panes come back.
    ToggleZoom,
    /// `w`: wrap long lines in the detail pane.
    ToggleWrap,
    /// `p`: the events list's data preview column.
    TogglePreview,
    /// `m`: the events list holds only the filter's matches.
    ToggleMatchingOnly,
    TogglePlay,
    Faster,
    Slower,
    ToggleFollow,
    /// Starts typing a filter: aggregates in the list, events in an aggregate.
    Filter,
    /// The next event matching the event filter.
    NextMatch,
    PrevMatch,
    /// Blame the State tab's selected line.
    Blame,
    /// Write the history (or marks A to B) to a transcript file.
    Export,
    CycleSort,
    /// The store log: every event of the store in store order.
    OpenLog,
    /// The causation tree of the selected event's request.
    Trace,
    /// Enter: open the selected aggregate, submit a prompt.
    Confirm,
    /// q / Esc: close what is open, or go back a screen, or quit from the list.
    Back,
    /// Esc on a screen: cancel what is pending there (a filter), never leave it.
    Cancel,
    Quit,
    ToggleHelp,
    /// `!`: every message the status line said, whole.
    MessageLog,
    InputChar(char),
    InputBackspace,
    /// Copy from the detail pane to the clipboard (OSC 52).
    Copy(Copy),
    /// Line editing in a prompt, as readline does it.
    Edit(Edit),
    #[serde(skip)]
    Click {
        column: u16,
        row: u16,
    },
    #[serde(skip)]
    Drag {
        column: u16,
        row: u16,
    },
    #[serde(skip)]
    WheelUp {
        column: u16,
        row: u16,
    },
    #[serde(skip)]
    WheelDown {
        column: u16,
        row: u16,
    },
    #[serde(skip)]
    Resize {
        width: u16,
        height: u16,
    },
    /// One step of playback; the runtime sends these at the play speed.
    #[serde(skip)]
    PlayTick,
    /// Time to ask the source for new events (live follow).
    #[serde(skip)]
    FollowTick,
    #[serde(skip)]
    Loaded(Report),
    /// Replay the next batch of received events.
    #[serde(skip)]
    Digest,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_have_stable_snake_case_names() {
        assert_eq!(
            serde_json::to_value(Action::StepForward).unwrap(),
            "step_forward"
        );
        assert_eq!(
            serde_json::from_value::<Action>(serde_json::json!({"select_tab": "compare"})).unwrap(),
            Action::SelectTab(Tab::Compare)
        );
    }

    #[test]
    fn runtime_only_actions_cannot_be_bound_from_config() {
        assert!(serde_json::from_value::<Action>(serde_json::json!("play_tick")).is_err());
    }
}
