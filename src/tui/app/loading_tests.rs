//! Headless transitions of loading: chunks, cancellation, live follow, failures.

use std::sync::atomic::Ordering;

use super::*;
use crate::tui::action::Action;
use crate::tui::loader::{perform, Newest, Report, Request};
use crate::tui::testing::{create_store, insert, insert_counting, open_store, row, Harness};

/// A 5,000-event aggregate opened, with the reports of its load up to its first chunk of
/// events applied (the UI's own reader first, then that chunk); the rest are returned.
fn big_history_first_chunk() -> (tempfile::TempDir, Harness, std::vec::IntoIter<Report>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let conn = create_store(&path);
    insert_counting(&conn, "big", 1, 5000);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.app.update(Action::Confirm);
    let request = h.app.take_requests().pop().unwrap();
    let mut reports = h.perform(request).into_iter();
    for report in reports.by_ref() {
        let events = matches!(report, Report::Events { .. });
        h.app.update(Action::Loaded(report));
        if events {
            break;
        }
    }
    (dir, h, reports)
}

fn view(h: &Harness) -> &AggregateView {
    h.app.view.as_ref().expect("an aggregate is open")
}

#[test]
fn back_returns_to_the_list_and_stale_reports_are_ignored() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    let old = view(&h).generation;
    h.send(Action::Back);
    assert!(h.app.view.is_none());
    h.send(Action::Confirm);
    assert_eq!(view(&h).summary.id, "acc-0003");
    assert!(view(&h).generation > old);
    let len = view(&h).len();
    let stale = h
        .app
        .view
        .as_mut()
        .unwrap()
        .replay
        .events(0..3)
        .unwrap()
        .to_vec();
    h.send(Action::Loaded(Report::Events {
        generation: old,
        events: stale,
    }));
    assert_eq!(
        view(&h).len(),
        len,
        "reports for an older generation change nothing"
    );
}

#[test]
fn a_newer_request_stops_an_older_load_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let conn = create_store(&path);
    insert_counting(&conn, "big", 1, 5000);
    let source = open_store(&path);
    let latest = Newest::default();
    latest.history.store(1, Ordering::SeqCst);
    let mut reports = Vec::new();
    let request = Request::LoadHistory {
        generation: 1,
        aggregate_id: "big".into(),
    };
    perform(source.as_ref(), request.clone(), &latest, &mut |report| {
        if matches!(report, Report::Events { .. }) {
            // The user opens something else while the first chunk is on its way.
            latest.history.store(2, Ordering::SeqCst);
        }
        reports.push(report);
    });
    assert!(matches!(&reports[0], Report::Reader { .. }), "{reports:?}");
    assert_eq!(
        reports.len(),
        2,
        "a reader, one chunk of three, and no Finished"
    );
    assert!(matches!(&reports[1], Report::Events { events, .. } if events.len() == 2048));
    let mut late = Vec::new();
    perform(source.as_ref(), request, &latest, &mut |r| late.push(r));
    assert!(late.is_empty(), "an outdated request is not even started");
}

#[test]
fn back_during_a_load_cancels_it() {
    let mut h = Harness::demo();
    h.app.update(Action::Confirm);
    h.app.take_requests();
    h.app.update(Action::Back);
    let requests = h.app.take_requests();
    assert!(
        matches!(requests.as_slice(), [Request::Cancel { generation: 2 }]),
        "{requests:?}"
    );
}

#[test]
fn a_long_history_can_be_scrubbed_while_it_loads() {
    let (_dir, mut h, reports) = big_history_first_chunk();
    assert!(
        view(&h).replay.is_paged(),
        "payloads are read back, not held"
    );
    assert!(view(&h).loading);
    assert_eq!(view(&h).len(), DIGEST_BATCH, "replayed in batches");
    assert_eq!(view(&h).span(), 5000);
    h.digest_all();
    assert!(view(&h).loading);
    assert_eq!(view(&h).len(), 2048);
    assert_eq!(view(&h).span(), 5000);
    h.app.update(Action::Last);
    assert_eq!(h.cursor_version(), 2048);
    assert!(h.screen().contains("loading 2048/5000"));
    for report in reports {
        h.app.update(Action::Loaded(report));
    }
    assert!(view(&h).loading, "not done until every event is replayed");
    h.digest_all();
    assert!(!view(&h).loading);
    assert_eq!(
        h.cursor_version(),
        5000,
        "a cursor on the last event rides the load"
    );
}

#[test]
fn follow_appends_new_events_and_keeps_an_end_cursor_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let conn = create_store(&path);
    insert_counting(&conn, "live", 1, 5);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.send(Action::Confirm);
    h.send(Action::Last);
    h.send(Action::FollowTick);
    assert!(h.app.take_requests().is_empty(), "no polling until f");
    h.send(Action::ToggleFollow);
    assert!(h.app.is_following());

    insert_counting(&conn, "live", 6, 2);
    h.send(Action::FollowTick);
    assert_eq!(view(&h).len(), 7);
    assert_eq!(
        h.cursor_version(),
        7,
        "the cursor was at the end, so it stays there"
    );

    h.send(Action::First);
    insert_counting(&conn, "live", 8, 1);
    h.send(Action::FollowTick);
    assert_eq!(view(&h).len(), 8);
    assert_eq!(h.cursor_version(), 1, "a cursor elsewhere does not move");

    h.send(Action::ToggleFollow);
    insert_counting(&conn, "live", 9, 1);
    h.send(Action::FollowTick);
    assert_eq!(view(&h).len(), 8);
}

#[test]
fn a_failing_source_shows_a_message_instead_of_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.db");
    let conn = create_store(&path);
    insert(&conn, &[row("x", 1, "Made", "{}")]);
    drop(conn);
    let source = open_store(&path);
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let h = Harness::new(source, 120, 32);
    let ListStatus::Failed(error) = &h.app.list.status else {
        panic!("expected a failure, got {:?}", h.app.list.status);
    };
    assert!(h.app.message.as_ref().unwrap().error);
    assert!(h.screen().contains("could not list aggregates"), "{error}");
}

#[test]
fn the_reducer_given_to_the_ui_folds_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sum.db");
    let conn = create_store(&path);
    insert_counting(&conn, "sum", 1, 4);
    let reducer = crate::replay::JqReducer::new(
        "{total: ((.total // 0) + $event.data.n)}",
        "sum.jq",
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    let mut h = Harness::with_reducer(open_store(&path), std::sync::Arc::new(reducer), 120, 32);
    h.send(Action::Confirm);
    h.send(Action::Last);
    let screen = h.screen();
    assert!(
        screen.contains("\"total\": 10"),
        "1+2+3+4 by the jq program:\n{screen}"
    );
}

/// Feeds `open` to a real loader and collects what it reports up to the aggregate list.
fn reports_of_a_late_open(open: crate::tui::OpenSource) -> Vec<Report> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (actions, mut received) = tokio::sync::mpsc::unbounded_channel();
        let handle = crate::tui::SourceHandle::Later {
            name: "kafka://localhost:9092/accounts".into(),
            open,
        };
        let loader = crate::tui::loader::Loader::spawn(handle, actions);
        loader.send(Request::ListAggregates);
        let mut reports = Vec::new();
        while let Some(Action::Loaded(report)) = received.recv().await {
            let last = matches!(report, Report::Aggregates(_));
            reports.push(report);
            if last {
                break;
            }
        }
        reports
    })
}

#[test]
fn a_source_opened_by_the_loader_shows_its_progress_before_the_list() {
    use crate::source::kafka::ReadProgress;
    use crate::tui::loader::ReadingProgress;
    let reports = reports_of_a_late_open(Box::new(|progress| {
        let progress = progress.expect("the loader asks for progress");
        for read in [0, 400, 800] {
            progress(&ReadProgress {
                topic: "accounts".into(),
                read,
                expected: 1000,
                done: false,
            });
            std::thread::sleep(std::time::Duration::from_millis(60));
        }
        progress(&ReadProgress {
            topic: "accounts".into(),
            read: 1000,
            expected: 1000,
            done: true,
        });
        Ok(open_store(&crate::tui::testing::demo_path()))
    }));
    let reading: Vec<u64> = reports
        .iter()
        .filter_map(|r| match r {
            Report::Reading(ReadingProgress { read, .. }) => Some(*read),
            _ => None,
        })
        .collect();
    assert_eq!(reading, vec![0, 400, 800], "{reports:?}");
    assert!(matches!(&reports[3], Report::Opened(name) if name.starts_with("sqlite:")));
    assert!(matches!(&reports[4], Report::Conventions(_)));
    assert!(matches!(&reports[5], Report::Aggregates(Ok(list)) if list.len() == 58));

    let mut h = Harness::demo();
    h.app.list = AggregateList::default();
    h.app.update(Action::Loaded(reports[1].clone()));
    assert!(h
        .screen()
        .contains("reading accounts: 400 of ~1000 records"));
    for report in reports[2..].iter().cloned() {
        h.app.update(Action::Loaded(report));
    }
    assert!(h.app.reading.is_none());
    assert_eq!(h.app.list.shown.len(), 58);
}

#[test]
fn a_source_that_fails_to_open_says_why_in_the_list() {
    let reports = reports_of_a_late_open(Box::new(|_| {
        Err(crate::source::SourceError::open(
            "cannot reach localhost:9092 within 10s",
        ))
    }));
    assert_eq!(
        reports,
        vec![Report::Aggregates(Err(
            "cannot reach localhost:9092 within 10s".into()
        ))]
    );
}

/// Checking snapshots reads a paged history again from the store: the UI asks the loader's
/// background thread for it instead of folding everything between two frames, and places
/// the verdicts when they come.
#[test]
fn snapshots_of_a_paged_history_are_checked_in_the_background() {
    let mut h = Harness::demo();
    h.send(Action::Filter);
    h.type_text("acc-0003");
    h.send(Action::Confirm);
    h.app.update(Action::Confirm);
    let mut check = None;
    for _ in 0..100 {
        let requests = h.app.take_requests();
        if requests.is_empty() {
            break;
        }
        for request in requests {
            if matches!(&request, Request::Job(job) if matches!(job.kind, crate::tui::jobs::JobKind::CheckSnapshots(_)))
            {
                check = Some(request);
                continue;
            }
            for report in h.perform(request) {
                h.app.update(Action::Loaded(report));
            }
        }
        h.digest_all();
    }
    let check = check.expect("a background snapshot check was asked for");
    assert!(view(&h).replay.is_paged());
    assert!(!view(&h).loading, "the history is loaded");
    assert!(
        view(&h).snapshots.is_empty(),
        "no verdict before the check answers"
    );
    assert!(view(&h).checking_snapshots.is_some());
    for report in h.perform(check) {
        h.app.update(Action::Loaded(report));
    }
    let marks: Vec<u64> = view(&h).snapshots.iter().map(|m| m.version).collect();
    assert_eq!(marks, vec![25, 50]);
    assert!(view(&h).checking_snapshots.is_none());
}

/// While a history loads with the cursor riding its end, the detail shown is not worked out
/// again for every replayed batch (each would read events back from the store); a key the
/// user presses, and the end of the load, bring it up to date.
#[test]
fn the_detail_waits_for_the_load_unless_the_user_asks() {
    let (_dir, mut h, reports) = big_history_first_chunk();
    let first = view(&h).detail.as_ref().map(|d| d.index);
    assert_eq!(
        first,
        Some(DIGEST_BATCH - 1),
        "the first batch shows its last event"
    );
    h.digest_all();
    assert_eq!(view(&h).cursor, 2047, "the cursor rode the load");
    assert_eq!(view(&h).detail.as_ref().map(|d| d.index), first);
    h.app.update(Action::StepBack);
    assert_eq!(view(&h).detail.as_ref().map(|d| d.index), Some(2046));
    h.app.update(Action::Last);
    for report in reports {
        h.app.update(Action::Loaded(report));
    }
    h.digest_all();
    assert!(!view(&h).loading);
    assert_eq!(view(&h).detail.as_ref().map(|d| d.index), Some(4999));
}

/// A source the UI opened itself says where it keeps ids once it is open, and the user's
/// rules are settled with those conventions then (Message DB's correlation fields in `T`).
#[test]
fn a_source_opened_by_the_ui_settles_the_id_rules_with_its_conventions() {
    use crate::inspect::IdRule;
    let mut h = Harness::demo();
    h.app.ids_for = Some(super::IdsFor(std::sync::Arc::new(|conventions| {
        let mut ids = crate::inspect::TraceIds::default();
        if let Some(path) = conventions.correlation {
            ids.correlation = IdRule::parse(path).unwrap();
        }
        ids
    })));
    let before = h.app.ids.clone();
    h.send(Action::Loaded(Report::Conventions(
        crate::source::IdConventions {
            correlation: Some(".metadata.correlationStreamName"),
            ..Default::default()
        },
    )));
    assert_ne!(h.app.ids, before);
    assert_eq!(
        h.app.ids.correlation,
        IdRule::parse(".metadata.correlationStreamName").unwrap()
    );
}
