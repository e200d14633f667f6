//! `M`: set mark A or B at a typed version or time (`a 37`, `b 10:30`, `a -1h`), where
//! `a` and `b` set them at the cursor.

use super::prompt::{read_position, Reading};
use super::{AggregateView, App};

impl App {
    /// Enter in the mark prompt: a bad line keeps the prompt open with the reason.
    /// The cursor stays: a mark is typed to compare against where one is.
    pub(super) fn submit_mark(&mut self, input: &str) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        match mark_at(view, input) {
            Err(error) => self.prompt_error(error),
            Ok((slot, index)) => {
                self.prompt = None;
                view.marks[slot] = Some(index);
                let note = mark_note(view, slot);
                self.say(note);
            }
        }
    }
}

/// Which mark `input` names and the event it goes on.
fn mark_at(view: &mut AggregateView, input: &str) -> Result<(usize, usize), String> {
    let input = input.trim();
    let mut chars = input.chars();
    let slot = match chars.next().map(|c| c.to_ascii_lowercase()) {
        Some('a') => 0,
        Some('b') => 1,
        _ => return Err("start with the mark, a or b: a 37, b v12, a 10:30, b -1h".into()),
    };
    let rest = chars.as_str().trim();
    if rest.is_empty() {
        return Err("then the version or time: a 37, b 10:30".into());
    }
    let position = read_position(view, rest, Reading::Either)?;
    let count = view.replay.resolve(position).map_err(|e| e.to_string())?;
    match count.checked_sub(1) {
        Some(index) => Ok((slot, index)),
        None => Err(format!(
            "{rest:?} is v0, before the first event: marks go on events"
        )),
    }
}

/// What the status line says once mark `slot` is set.
pub(super) fn mark_note(view: &AggregateView, slot: usize) -> String {
    let name = ['A', 'B'][slot];
    let version = view.marks[slot].map_or(0, |i| view.version_of(i));
    let hint = match view.marks {
        [Some(_), Some(_)] => "; press c to compare",
        [Some(_), None] => "; press c to compare it with the cursor as you scrub",
        _ => "",
    };
    format!("mark {name} at v{version}{hint}")
}
