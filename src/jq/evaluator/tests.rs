//! These start real worker processes: the `rewind` binary beside the test harness, which
//! `cargo test` builds for integration tests (`cargo build` first when running `--lib`).

use super::*;
use serde_json::json;

const LIMIT: Duration = Duration::from_millis(300);
/// For steps that are slow on purpose (filling a stack, nesting 100,000 levels).
const SLOW: Duration = Duration::from_secs(20);

fn events(texts: &[&str]) -> Vec<Option<String>> {
    texts.iter().map(|t| Some(t.to_string())).collect()
}

/// A process that has exited and been reaped has no /proc entry (a zombie would).
fn gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

fn failed_with(outcome: &Outcome, text: &str) -> bool {
    matches!(outcome, Outcome::Failed(why) if why.contains(text))
}

#[test]
fn folds_chain_and_skip() {
    let evaluator = Evaluator::new(". + $event", "sum", LIMIT).unwrap();
    let mut state = json!(0);
    let outcomes = evaluator.fold(&mut state, vec![Some("1".into()), None, Some("2".into())]);
    assert_eq!(state, json!(3));
    assert_eq!(
        outcomes,
        vec![Outcome::Done(None), Outcome::Skipped, Outcome::Done(None)]
    );
    // A second fold starts from the state it is given, not from where the worker stopped.
    let mut other = json!(10);
    evaluator.fold(&mut other, events(&["5"]));
    assert_eq!(other, json!(15));
}

#[test]
fn a_runaway_step_is_killed_and_the_fold_goes_on_in_a_fresh_worker() {
    let code = r#"if $event == "loop" then def f: f; f else . + $event end"#;
    let evaluator = Evaluator::new(code, "loopy.jq", LIMIT).unwrap();
    let first = evaluator.worker_id().unwrap();
    let mut state = json!(0);
    let outcomes = evaluator.fold(&mut state, events(&["1", r#""loop""#, "2"]));
    assert_eq!(state, json!(3));
    assert_eq!(outcomes[0], Outcome::Done(None));
    assert!(
        failed_with(&outcomes[1], "limit and was stopped"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[2], Outcome::Done(None));
    assert!(
        gone(first),
        "the stuck worker {first} was killed and reaped"
    );
    assert_ne!(evaluator.worker_id(), Some(first));
}

#[test]
fn a_failing_step_leaves_the_state_as_it_was_and_later_steps_apply() {
    let code = r#"if $event == "bad" then error("no") else .n += $event end"#;
    let evaluator = Evaluator::new(code, "t.jq", LIMIT).unwrap();
    let mut state = json!({"n": 0});
    let outcomes = evaluator.fold(&mut state, events(&["1", r#""bad""#, "2", r#""bad""#, "4"]));
    assert_eq!(state, json!({"n": 7}));
    assert!(failed_with(&outcomes[1], "no"));
    assert!(matches!(&outcomes[3], Outcome::Failed(_)));
    assert_eq!(outcomes[4], Outcome::Done(None));
}

#[test]
fn a_stack_overflow_fails_its_step_only() {
    let code = r#"if $event == "deep" then def f: [f]; f else . + $event end"#;
    let evaluator = Evaluator::new(code, "deep.jq", SLOW).unwrap();
    let mut state = json!(0);
    let outcomes = evaluator.fold(&mut state, events(&["1", "2", r#""deep""#, "4"]));
    assert_eq!(state, json!(7));
    assert!(
        failed_with(&outcomes[2], "deep.jq recursed too deeply (stack overflow)"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[3], Outcome::Done(None));
}

#[test]
fn a_step_over_the_memory_budget_fails_with_the_budget_named() {
    let code = r#"if $event == "big" then [range(1e9)] | length else . + $event end"#;
    let limits = Limits::new(Duration::from_secs(60), 32);
    let evaluator = Evaluator::new(code, "big.jq", limits).unwrap();
    let mut state = json!(0);
    let outcomes = evaluator.fold(&mut state, events(&["1", r#""big""#, "2"]));
    assert_eq!(state, json!(3));
    assert!(
        failed_with(
            &outcomes[1],
            "big.jq exceeded the jq memory budget of 32 MB"
        ),
        "{outcomes:?}"
    );
}

#[test]
fn a_state_too_deep_to_hand_back_fails_the_step_that_made_it() {
    let code =
        r#"if $event == "deep" then reduce range(100000) as $i (.; {a: .}) else . + $event end"#;
    let evaluator = Evaluator::new(code, "nest.jq", SLOW).unwrap();
    let mut state = json!(0);
    let outcomes = evaluator.fold(&mut state, events(&["1", r#""deep""#, "2"]));
    assert_eq!(state, json!(3));
    assert_eq!(
        outcomes[1],
        Outcome::Failed("state nested deeper than 127 levels".into())
    );
    assert_eq!(outcomes[2], Outcome::Done(None));
}

/// Every state refused: the refused job's steps are sent again one at a time, once, not
/// the rest of the history again after each step (which made such folds quadratic).
#[test]
fn a_reducer_whose_every_state_is_refused_costs_each_step_twice_at_most() {
    let code = "reduce range(130) as $i (.; [.])";
    let evaluator = Evaluator::new(code, "deep.jq", SLOW).unwrap();
    let mut state = json!(0);
    let n = 300;
    let outcomes = evaluator.fold(&mut state, events(&vec!["1"; n]));
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Failed(_))),
        "{outcomes:?}"
    );
    assert_eq!(state, json!(0));
    assert!(
        evaluator.steps_sent() <= 2 * n,
        "{} steps sent for {n} events",
        evaluator.steps_sent()
    );
}

#[test]
fn maps_judge_each_item_and_refuse_outputs_too_deep() {
    let code = r#"if $event == "deep" then reduce range(200) as $i (.; [.]) else . > $event end"#;
    let evaluator = Evaluator::new(code, "p", LIMIT).unwrap();
    let items = vec![
        (json!(5), "3".to_string()),
        (json!(1), r#""deep""#.to_string()),
        (json!(1), "3".to_string()),
    ];
    let outcomes = evaluator.map(&items);
    assert_eq!(outcomes[0], Outcome::Done(Some(json!(true))));
    assert!(failed_with(
        &outcomes[1],
        "output nested deeper than 127 levels"
    ));
    assert_eq!(outcomes[2], Outcome::Done(Some(json!(false))));
}

#[test]
fn gives_up_after_repeated_stops() {
    let evaluator = Evaluator::new("def f: f; f", "spin.jq", Duration::from_millis(50)).unwrap();
    let items: Vec<(Value, String)> = (0..6).map(|i| (json!(i), "null".into())).collect();
    let outcomes = evaluator.map(&items);
    assert_eq!(outcomes.len(), 6);
    assert!(failed_with(&outcomes[0], "limit and was stopped"));
    assert!(failed_with(&outcomes[5], "not run again"), "{outcomes:?}");
    assert_eq!(
        evaluator.worker_id(),
        None,
        "no worker is kept for a given-up program"
    );
}

#[test]
fn compile_errors_come_from_the_worker_before_any_step() {
    let err = Evaluator::new(".a | ", "r.jq", LIMIT).err().unwrap();
    assert!(
        matches!(&err, JqError::Compile(text) if text.starts_with("r.jq: syntax error")),
        "{err}"
    );
    // Deep enough to overflow the compiler's stack: the worker dies, this process does not.
    let nested = "(".repeat(1_000_000);
    let err = Evaluator::new(&nested, "n.jq", LIMIT).err().unwrap();
    assert!(matches!(err, JqError::Compile(_)), "{err}");
}

#[test]
fn dropping_the_evaluator_kills_and_reaps_its_worker() {
    let evaluator = Evaluator::new(".", "idle", LIMIT).unwrap();
    let pid = evaluator.worker_id().unwrap();
    assert!(!gone(pid));
    drop(evaluator);
    assert!(gone(pid), "worker {pid} outlived its evaluator");
}

/// Numbers are added; "bad" errors, "loop" never ends, "deep" nests the state too deeply.
const TROUBLE: &str = r#"
    if $event == "bad" then error("bad")
    elif $event == "loop" then def f: f; f
    elif $event == "deep" then reduce range(200) as $i (.; [.])
    else . + $event end"#;

/// A long checkpointed fold of `texts`: its outcomes, checkpoints and final state.
fn checkpointed(evaluator: &Evaluator, texts: &[String]) -> (Vec<Outcome>, Vec<Value>, Value) {
    let mut state = json!(0);
    let mut seen = Vec::new();
    let outcomes = evaluator.fold_with_checkpoints(
        &mut state,
        texts.len(),
        &mut |range| texts[range].iter().map(|t| Some(t.clone())).collect(),
        Checkpoints {
            first: 10,
            every: 64,
        },
        &mut |value| seen.push(value.clone()),
    );
    (outcomes, seen, state)
}

/// What the fold must give: each checkpoint is the sum of the numbers before it.
fn expected(texts: &[String]) -> (Vec<Value>, Value) {
    let mut sum = 0i64;
    let mut checkpoints = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        sum += text.parse::<i64>().unwrap_or(0);
        if i + 1 >= 10 && (i + 1 - 10) % 64 == 0 {
            checkpoints.push(json!(sum));
        }
    }
    (checkpoints, json!(sum))
}

#[test]
fn a_checkpointed_fold_hands_back_every_checkpoint_across_many_jobs() {
    let evaluator = Evaluator::new(TROUBLE, "t.jq", LIMIT).unwrap();
    let mut texts: Vec<String> = (1..=5000).map(|i| i.to_string()).collect();
    texts[2500] = r#""bad""#.into();
    let (outcomes, seen, state) = checkpointed(&evaluator, &texts);
    let (checkpoints, total) = expected(&texts);
    assert_eq!((seen, state), (checkpoints, total));
    assert_eq!(outcomes.len(), 5000);
    assert!(failed_with(&outcomes[2500], "bad"));
    let failures = outcomes.iter().filter(|o| matches!(o, Outcome::Failed(_)));
    assert_eq!(failures.count(), 1);
}

#[test]
fn a_checkpointed_fold_recovers_from_a_runaway_step_and_a_state_too_deep() {
    let evaluator = Evaluator::new(TROUBLE, "t.jq", SLOW.min(Duration::from_secs(2))).unwrap();
    let mut texts: Vec<String> = (1..=3000).map(|i| i.to_string()).collect();
    texts[700] = r#""deep""#.into();
    texts[1800] = r#""loop""#.into();
    let (outcomes, seen, state) = checkpointed(&evaluator, &texts);
    let (checkpoints, total) = expected(&texts);
    assert_eq!((seen, state), (checkpoints, total));
    assert_eq!(outcomes.len(), 3000);
    assert!(
        failed_with(&outcomes[700], "state nested deeper"),
        "{:?}",
        outcomes[700]
    );
    assert!(
        failed_with(&outcomes[1800], "limit and was stopped"),
        "{:?}",
        outcomes[1800]
    );
    let failures = outcomes.iter().filter(|o| matches!(o, Outcome::Failed(_)));
    assert_eq!(failures.count(), 2);
}

#[test]
fn a_checkpointed_fold_gives_up_like_any_other() {
    let evaluator = Evaluator::new(TROUBLE, "t.jq", LIMIT).unwrap();
    let mut texts: Vec<String> = (1..=4000).map(|i| i.to_string()).collect();
    for at in [100, 1500, 2500] {
        texts[at] = r#""loop""#.into();
    }
    let (outcomes, seen, _) = checkpointed(&evaluator, &texts);
    assert_eq!(outcomes.len(), 4000);
    assert_eq!(
        seen.len(),
        expected(&texts).0.len(),
        "every checkpoint is still called"
    );
    assert!(
        failed_with(&outcomes[2500], "limit and was stopped"),
        "{:?}",
        &outcomes[2499..2502]
    );
    assert!(failed_with(&outcomes[2501], "not run again"));
    assert!(failed_with(&outcomes[3999], "not run again"));
    assert_eq!(evaluator.worker_id(), None);
}

#[test]
fn an_event_too_big_for_the_budget_fails_alone_and_is_not_a_stop() {
    let evaluator = Evaluator::new(". + 1", "t.jq", Limits::new(LIMIT, 16)).unwrap();
    let huge = format!("\"{}\"", "x".repeat(40 << 20));
    let mut state = json!(0);
    let outcomes = evaluator.fold(
        &mut state,
        vec![Some("1".into()), Some(huge), Some("2".into())],
    );
    assert_eq!(state, json!(2));
    assert!(
        failed_with(
            &outcomes[1],
            "more than the 32 MB a jq budget of 16 MB takes"
        ),
        "{outcomes:?}"
    );
    let mut again = json!(0);
    let outcomes = evaluator.fold(&mut again, events(&["1", "1", "1", "1"]));
    assert_eq!(
        (again, outcomes.len()),
        (json!(4), 4),
        "still run: no stop was counted"
    );
}
