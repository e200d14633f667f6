//! Whether a jq program reads its input (`.`), so a store-wide filter that only looks at
//! `$event` needs no aggregate state folded for it.

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Term};
use jaq_core::path::Part;

/// False only when the program provably never reads `.`; anything it cannot tell (a call,
/// a definition, a program that does not parse) counts as reading it.
pub fn reads_input(code: &str) -> bool {
    match jaq_core::load::parse(code, |p| p.term()) {
        Some(term) => uses_input(&term),
        None => true,
    }
}

/// Filters that ignore their input; everything else called may read it.
const CONSTANTS: [&str; 6] = ["true", "false", "null", "empty", "nan", "infinite"];

fn uses_input(term: &Term<&str>) -> bool {
    let any = |terms: &[Term<&str>]| terms.iter().any(uses_input);
    match term {
        Term::Id | Term::Recurse => true,
        Term::Num(_) | Term::Var(_) | Term::Break(_) => false,
        // `@base64` alone formats its input; interpolations run on it.
        Term::Str(format, parts) => {
            (format.is_some() && parts.is_empty())
                || parts.iter().any(|part| match part {
                    StrPart::Term(term) => uses_input(term),
                    _ => false,
                })
        }
        Term::Arr(items) => items.as_deref().is_some_and(uses_input),
        // `{a}` is `{a: .a}`; `{$x}` is `{x: $x}`.
        Term::Obj(pairs) => pairs.iter().any(|(key, value)| match value {
            Some(value) => uses_input(key) || uses_input(value),
            None => !matches!(key, Term::Var(_)),
        }),
        Term::Neg(term) | Term::Label(_, term) => uses_input(term),
        // `l | r` runs r on l's output; `l as $x | r` runs r on the input itself.
        Term::BinOp(left, BinaryOp::Pipe(None), _) => uses_input(left),
        Term::BinOp(_, BinaryOp::Assign | BinaryOp::Update, _)
        | Term::BinOp(_, BinaryOp::UpdateMath(_) | BinaryOp::UpdateAlt, _) => true,
        Term::BinOp(left, _, right) => uses_input(left) || uses_input(right),
        // `reduce xs as $x (init; update)`: the update runs on the accumulator.
        Term::Fold(_, xs, _, args) => uses_input(xs) || args.first().is_some_and(uses_input),
        // The catch runs on the error.
        Term::TryCatch(body, _) => uses_input(body),
        // A missing `else` is `else .`.
        Term::IfThenElse(branches, otherwise) => {
            branches
                .iter()
                .any(|(cond, then)| uses_input(cond) || uses_input(then))
                || otherwise.as_deref().is_none_or(uses_input)
        }
        Term::Def(..) => true,
        Term::Call(name, args) => !(args.is_empty() && CONSTANTS.contains(name)) || any(args),
        // Index terms run on the input, as in `$event.data[.key]`.
        Term::Path(base, path) => {
            uses_input(base)
                || path.0.iter().any(|(part, _)| match part {
                    Part::Index(index) => uses_input(index),
                    Part::Range(from, to) => {
                        from.as_ref().is_some_and(uses_input) || to.as_ref().is_some_and(uses_input)
                    }
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_over_event_alone_do_not_read_the_state() {
        for code in [
            r#"$event.type == "Withdrawn""#,
            r#"$event.data.amount > 100 and $event.type == "W""#,
            r#"if $event.version == 1 then true else false end"#,
            r#"[$event.data[]] | length > 2"#,
            r#"$event.metadata as $m | $m.user == "api""#,
            r#"{$event} | .event.version > 3"#,
            r#""\($event.type)" | test("Dep")"#,
            "true",
        ] {
            assert!(!reads_input(code), "{code} does not read .");
        }
    }

    #[test]
    fn anything_that_may_read_the_state_counts() {
        for code in [
            ".balance < 0",
            "length > 0",
            r#"if $event.version == 1 then true end"#,
            r#"$event.type as $t | .kind == $t"#,
            r#"$event.data[.key]"#,
            "{balance}",
            "def f: .; f",
            "not",
            "@base64",
            "(",
            "..",
            r#"reduce $event.data[] as $x (.n; . + $x)"#,
        ] {
            assert!(reads_input(code), "{code} may read .");
        }
    }
}
