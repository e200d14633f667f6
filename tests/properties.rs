//! Invariants over generated data: diffs are exact, checkpointed replay equals a plain fold,
//! and nothing printed through the CLI's output layer holds a character that drives a terminal.

use std::sync::Arc;

use proptest::prelude::*;
use rewind::diff::{apply_changes, changes, json_patch, round_trips};
use rewind::model::{Event, Payload};
use rewind::replay::{merge_patch, MergeReducer, Replay};
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        "[a-z~/ ]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-d~/]{1,3}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn event(version: u64, data: Payload) -> Event {
    Event {
        aggregate_id: "agg".into(),
        version,
        event_type: "Changed".into(),
        data,
        ..Event::default()
    }
}

proptest! {
    #[test]
    fn json_patch_of_a_b_turns_a_into_b(a in json_value(), b in json_value()) {
        let patch: json_patch::Patch = serde_json::from_value(json_patch(&a, &b)).unwrap();
        let mut patched = a.clone();
        json_patch::patch(&mut patched, &patch).unwrap();
        prop_assert_eq!(patched, b);
    }

    /// What a transcript that records a step's changes instead of its state relies on.
    #[test]
    fn the_changes_from_a_to_b_applied_to_a_give_b(a in json_value(), b in json_value()) {
        let found = changes(&a, &b);
        let mut state = a.clone();
        apply_changes(&mut state, &found, 64).unwrap();
        prop_assert_eq!(state, b);
        prop_assert!(found.iter().all(|c| round_trips(&c.path)));
    }

    #[test]
    fn changes_are_empty_exactly_when_values_are_equal(a in json_value(), b in json_value()) {
        prop_assert_eq!(changes(&a, &b).is_empty(), a == b);
    }

    #[test]
    fn every_change_names_the_old_and_new_value_at_its_path(a in json_value(), b in json_value()) {
        for change in changes(&a, &b) {
            prop_assert_eq!(change.old.as_ref(), change.path.lookup(&a));
            prop_assert_eq!(change.new.as_ref(), change.path.lookup(&b));
        }
    }

    #[test]
    fn replay_at_any_position_in_any_order_equals_a_plain_fold(
        patches in prop::collection::vec(prop::option::weighted(0.9, json_value()), 0..300),
        visits in prop::collection::vec(0usize..301, 1..40),
    ) {
        let events: Vec<Event> = patches
            .iter()
            .enumerate()
            .map(|(i, p)| match p {
                Some(json) => event(i as u64 + 1, Payload::from_value(json.clone())),
                None => event(i as u64 + 1, Payload::Undecodable { raw: "{".into(), error: "bad".into() }),
            })
            .collect();
        let mut folds = vec![Value::Null];
        for patch in &patches {
            let mut next = folds.last().unwrap().clone();
            if let Some(patch) = patch {
                merge_patch(&mut next, patch);
            }
            folds.push(next);
        }
        let mut replay = Replay::new(Arc::new(MergeReducer));
        // Loading in uneven chunks must not change the result.
        for chunk in events.chunks(37) {
            replay.extend(chunk.to_vec());
        }
        prop_assert_eq!(replay.latest(), folds.last().unwrap());
        for visit in visits {
            let count = visit.min(patches.len());
            prop_assert_eq!(replay.state_after(count).unwrap(), &folds[count]);
            if count > 0 {
                prop_assert_eq!(replay.state_after(count - 1).unwrap(), &folds[count - 1]);
            }
        }
    }
}

/// Text mixing any characters with the ones a terminal must not get raw, and the joiners
/// that must be kept.
fn hostile_text() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '\n', '\t', '\r', '\u{0}', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{9d}',
        '\u{61c}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{202e}', '\u{2060}',
        '\u{2066}', '\u{feff}', '"', '\\', '{', '[', ']', '}', '日',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), special], 0..80)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #[test]
    fn the_output_layer_prints_any_text_terminal_safe(text in hostile_text()) {
        rewind::fuzzing::terminal_output(&text);
    }
}
