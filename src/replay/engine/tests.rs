use super::*;
use crate::model::SnapshotOutcome;
use crate::model::{parse_time, Payload, Snapshot};
use crate::replay::{MergeReducer, WarningKind};
use serde_json::json;

fn event(version: u64, at: &str, data: Payload) -> Event {
    Event {
        aggregate_id: "a".into(),
        version,
        event_type: "T".into(),
        timestamp: parse_time(at),
        data,
        ..Event::default()
    }
}

fn replay(events: Vec<Event>) -> Replay<'static> {
    let mut replay = Replay::new(Arc::new(MergeReducer));
    replay.extend(events);
    replay
}

#[test]
fn undecodable_events_leave_state_unchanged_and_are_reported() {
    let mut r = replay(vec![
        event(1, "2026-01-01", Payload::from_value(json!({"n": 1}))),
        event(2, "2026-01-02", Payload::from_json_text("{oops")),
        event(3, "2026-01-03", Payload::from_value(json!({"m": 3}))),
    ]);
    assert_eq!(r.state_after(2).unwrap(), &json!({"n": 1}));
    assert_eq!(r.latest(), &json!({"n": 1, "m": 3}));
    assert!(matches!(r.problem(1), Some(StepProblem::Undecodable(_))));
    assert_eq!(r.problem(0), None);
}

#[test]
fn gaps_duplicates_and_backwards_time_are_warnings() {
    let r = replay(vec![
        event(2, "2026-01-02", Payload::from_value(json!({}))),
        event(3, "2026-01-01", Payload::from_value(json!({}))),
        event(3, "2026-01-03", Payload::from_value(json!({}))),
        event(7, "2026-01-04", Payload::from_value(json!({}))),
    ]);
    let kinds: Vec<(usize, &WarningKind)> =
        r.warnings().iter().map(|w| (w.index, &w.kind)).collect();
    assert!(matches!(
        kinds[0],
        (0, WarningKind::VersionGap { expected: 1 })
    ));
    assert!(matches!(
        kinds[1],
        (1, WarningKind::TimestampBackwards { .. })
    ));
    assert!(matches!(kinds[2], (2, WarningKind::DuplicateVersion)));
    assert!(matches!(
        kinds[3],
        (3, WarningKind::VersionGap { expected: 4 })
    ));
}

#[test]
fn positions_resolve_to_event_counts() {
    let r = replay(vec![
        event(1, "2026-01-01T10:00:00Z", Payload::from_value(json!({}))),
        event(2, "2026-01-01T11:00:00Z", Payload::from_value(json!({}))),
        event(4, "2026-01-01T12:00:00Z", Payload::from_value(json!({}))),
    ]);
    assert_eq!(r.resolve(Position::Version(0)), Ok(0));
    assert_eq!(r.resolve(Position::Version(2)), Ok(2));
    // Version 3 is in a gap: the state is the one after v2.
    assert_eq!(r.resolve(Position::Version(3)), Ok(2));
    assert_eq!(
        r.resolve(Position::Version(5)),
        Err(ReplayError::VersionBeyondEnd { wanted: 5, last: 4 })
    );
    let at = |t: &str| r.resolve(Position::Time(parse_time(t).unwrap()));
    assert_eq!(at("2026-01-01T09:00:00Z"), Ok(0));
    assert_eq!(at("2026-01-01T11:30:00Z"), Ok(2));
    assert_eq!(at("2027-01-01"), Ok(3));
    assert_eq!(r.version_after(3), 4);
}

#[test]
fn snapshots_are_checked_against_replay() {
    let mut r = replay(
        (1..=4)
            .map(|v| event(v, "2026-01-01", Payload::from_value(json!({"n": v}))))
            .collect(),
    );
    let snapshot = |version, state: Value| Snapshot {
        aggregate_id: "a".into(),
        version,
        state: Payload::from_value(state),
        timestamp: None,
    };
    r.set_snapshots(vec![
        snapshot(9, json!({})),
        snapshot(2, json!({"n": 2})),
        snapshot(3, json!({"n": 30})),
    ]);
    let checks = r.check_snapshots().unwrap();
    assert_eq!(checks[0].outcome, SnapshotOutcome::Agrees);
    let SnapshotOutcome::Differs(changes) = &checks[1].outcome else {
        panic!("v3 should differ: {:?}", checks[1]);
    };
    assert_eq!(changes[0].path.to_string(), ".n");
    assert_eq!(changes[0].old, Some(json!(30)));
    assert_eq!(changes[0].new, Some(json!(3)));
    assert_eq!(checks[2].outcome, SnapshotOutcome::BeyondHistory);
}

/// Pages read back from a vector, as a store would give them (snapshots keyed by place).
struct VecPages(Vec<Event>, Vec<Snapshot>);

impl EventPages for VecPages {
    fn read_page(
        &mut self,
        after: Option<(u64, crate::model::StorePosition)>,
        limit: usize,
    ) -> Result<Vec<Event>, String> {
        let start = match after {
            None => 0,
            Some(key) => {
                self.0
                    .iter()
                    .position(|e| (e.version, e.position) == key)
                    .ok_or("no such event")?
                    + 1
            }
        };
        Ok(self.0.iter().skip(start).take(limit).cloned().collect())
    }

    fn read_snapshot(&mut self, key: u64) -> Result<Option<Snapshot>, String> {
        Ok(self.1.get(key as usize).cloned())
    }
}

fn stored_snapshot(version: u64, state: Value) -> Snapshot {
    Snapshot {
        aggregate_id: "a".into(),
        version,
        state: Payload::from_value(state),
        timestamp: None,
    }
}

#[test]
fn a_paged_replay_reads_each_snapshot_state_from_the_store_when_checked() {
    let events: Vec<Event> = (1..=4)
        .map(|v| event(v, "2026-01-01", Payload::from_value(json!({"n": v}))))
        .collect();
    // The store hands them over out of version order (a Kafka topic): keys are its own.
    let stored = vec![
        stored_snapshot(3, json!({"n": 30})),
        stored_snapshot(2, json!({"n": 2})),
    ];
    let entries = (stored.iter().zip(0..))
        .map(|(s, key)| s.entry(key))
        .collect();
    let pages = VecPages(events.clone(), stored);
    let mut r = Replay::paged(Arc::new(MergeReducer), Box::new(pages));
    r.extend(events);
    r.set_snapshot_entries(entries);
    assert_eq!(
        r.snapshots()
            .iter()
            .map(|s| (s.version, s.key))
            .collect::<Vec<_>>(),
        [(2, 1), (3, 0)]
    );
    let checks = r.check_snapshots().unwrap();
    assert_eq!(checks[0].outcome, SnapshotOutcome::Agrees);
    assert!(matches!(checks[1].outcome, SnapshotOutcome::Differs(_)));
    assert_eq!(
        r.snapshot(1).unwrap().state,
        Payload::from_value(json!({"n": 30}))
    );
}

#[test]
fn a_snapshot_the_store_no_longer_has_as_listed_is_an_error_not_another_state() {
    let events: Vec<Event> = (1..=2)
        .map(|v| event(v, "2026-01-01", Payload::from_value(json!({"n": v}))))
        .collect();
    // Listed at v2, found at v1 when read back: the store changed under the replay.
    let pages = VecPages(events.clone(), vec![stored_snapshot(1, json!({"n": 1}))]);
    let mut r = Replay::paged(Arc::new(MergeReducer), Box::new(pages));
    r.extend(events);
    r.set_snapshot_entries(vec![stored_snapshot(2, json!({})).entry(0)]);
    let err = r.check_snapshots().unwrap_err().to_string();
    assert!(err.contains("store changed"), "{err}");
    r.set_snapshot_entries(vec![stored_snapshot(2, json!({})).entry(7)]);
    assert!(r.snapshot(0).is_err());
}

/// Events 1..=n with a gap, a repeated version and undecodable payloads sprinkled in.
fn mixed_history(n: u64) -> Vec<Event> {
    (1..=n)
        .map(|v| {
            let data = match v % 97 {
                13 => Payload::Undecodable {
                    raw: "{".into(),
                    error: "bad".into(),
                },
                _ => Payload::from_value(json!({"n": v, "half": v / 2, "drop": null})),
            };
            let version = if v == 50 { 49 } else { v + u64::from(v > 300) };
            let mut event = event(version, "2026-01-01T00:00:00Z", data);
            event.position = crate::model::StorePosition::Seq(v as i64);
            event
        })
        .collect()
}

/// Replays `events` handed over in batches of `sizes` (cycled), once through `extend` and
/// once through `extend_overlapped`, and checks both agree at every position.
fn overlapped_agrees(reducer: Arc<dyn Reducer>, events: &[Event], sizes: &[usize], paged: bool) {
    let make = || match paged {
        true => Replay::paged(
            Arc::clone(&reducer),
            Box::new(VecPages(events.to_vec(), Vec::new())),
        ),
        false => Replay::new(Arc::clone(&reducer)),
    };
    let batches: Vec<Vec<Event>> = {
        let (mut batches, mut at, mut size) = (Vec::new(), 0, sizes.iter().cycle());
        while at < events.len() {
            let end = (at + size.next().unwrap()).min(events.len());
            batches.push(events[at..end].to_vec());
            at = end;
        }
        batches
    };
    let mut serial = make();
    for batch in batches.clone() {
        serial.extend(batch);
    }
    let mut overlapped = make();
    let fed = overlapped.extend_overlapped(|extend| {
        for batch in batches {
            extend(batch);
        }
        "fed"
    });
    assert_eq!(fed, "fed");
    assert_eq!(overlapped.len(), serial.len());
    assert_eq!(overlapped.latest(), serial.latest());
    assert_eq!(
        overlapped.problems().collect::<Vec<_>>(),
        serial.problems().collect::<Vec<_>>()
    );
    assert_eq!(overlapped.warnings(), serial.warnings());
    for count in (0..=events.len()).rev().step_by(7) {
        let expected = serial.state_after(count).unwrap().clone();
        assert_eq!(
            overlapped.state_after(count).unwrap(),
            &expected,
            "after {count}"
        );
    }
    let read_back = overlapped.events(0..events.len()).unwrap().to_vec();
    assert_eq!(read_back.len(), events.len());
    assert!(read_back
        .iter()
        .zip(events)
        .all(|(a, b)| a.version == b.version));
}

#[test]
fn folding_beside_the_read_gives_the_replay_extend_gives() {
    let events = mixed_history(1500);
    for sizes in [&[1][..], &[7, 300, 2], &[2048], &[64, 1, 129]] {
        for paged in [false, true] {
            overlapped_agrees(Arc::new(MergeReducer), &events, sizes, paged);
        }
    }
    // A jq reducer folds queued batches in one call through its worker.
    let counting = crate::replay::JqReducer::new(
        "(. // {}) | .n = $event.data.n | .seen += 1",
        "counting",
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    overlapped_agrees(Arc::new(counting), &events, &[100, 3, 500], true);
}

#[test]
fn nothing_fed_leaves_an_empty_replay() {
    let mut replay = Replay::new(Arc::new(MergeReducer));
    replay.extend_overlapped(|_| ());
    assert!(replay.is_empty());
    assert_eq!(replay.latest(), &Value::Null);
}

#[test]
fn v0_is_before_the_first_event_even_when_unreadable_versions_come_first() {
    let data = || Payload::from_value(json!({"n": 1}));
    let r = replay(vec![
        event(0, "2026-01-01T00:00:00Z", data()),
        event(1, "2026-01-01T00:01:00Z", data()),
    ]);
    assert_eq!(r.resolve(Position::Version(0)), Ok(0));
    assert_eq!(r.resolve(Position::Version(1)), Ok(2));
}

#[test]
fn checkpoints_of_a_growing_state_keep_to_their_budget() {
    // Every event adds a 1 KB entry: after 5,000 events the state holds 5 MB, and a
    // checkpoint every 64 events would hold about 200 MB of copies of it.
    let budget = 16 << 20;
    let mut r = Replay::new(Arc::new(MergeReducer));
    r.fold = Fold::with_budget(Arc::new(MergeReducer), budget);
    let events: Vec<Event> = (1..=5000)
        .map(|v| {
            let entry = json!({ format!("k{v}"): "x".repeat(1000) });
            event(v, "2026-01-01", Payload::from_value(entry))
        })
        .collect();
    for batch in events.chunks(700) {
        r.extend(batch.to_vec());
        assert!(
            r.fold.checkpoint_bytes() <= budget,
            "{} bytes after {} events",
            r.fold.checkpoint_bytes(),
            r.len()
        );
    }
    assert!(r.fold.checkpoints.len() >= 2, "some checkpoints stay");
    assert!(r.fold.spacing > 64, "the spacing grew instead");
    // Every position is still reached exactly, backwards and forwards.
    for count in [4999, 10, 0, 64, 65, 2500, 1, 3000, 5000] {
        let state = r.state_after(count).unwrap();
        assert_eq!(state.as_object().map_or(0, |m| m.len()), count, "{count}");
    }
}

#[test]
fn small_states_keep_their_close_checkpoints() {
    let mut r = replay(
        (1..=1000)
            .map(|v| event(v, "2026-01-01", Payload::from_value(json!({"n": v}))))
            .collect(),
    );
    assert_eq!(r.fold.spacing, 64);
    assert_eq!(r.state_after(700).unwrap(), &json!({"n": 700}));
}

#[test]
fn a_one_pass_replay_keeps_one_checkpoint_and_still_reaches_every_position() {
    let mut r = Replay::new(Arc::new(MergeReducer)).for_one_pass();
    let events: Vec<Event> = (1..=3000)
        .map(|v| {
            event(
                v,
                "2026-01-01",
                Payload::from_value(json!({ format!("k{v}"): v })),
            )
        })
        .collect();
    for batch in events.chunks(500) {
        r.extend(batch.to_vec());
    }
    assert_eq!(r.fold.checkpoints.len(), 1, "spacing {}", r.fold.spacing);
    for count in [3000, 2999, 17, 0, 1500] {
        let state = r.state_after(count).unwrap();
        assert_eq!(state.as_object().map_or(0, |m| m.len()), count, "{count}");
    }
}
