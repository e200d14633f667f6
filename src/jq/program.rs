//! Compiling a jq program once, with only the filters a sandbox allows.

use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars};
use jaq_json::Val;

/// Native filters that reach outside the program: environment, clock, input, stderr, exit.
const DENIED: [&str; 9] = [
    "env",
    "now",
    "input",
    "inputs",
    "halt",
    "stderr_empty",
    "debug_empty",
    "localtime",
    "strflocaltime",
];

/// Standard definitions built on the denied filters.
const DENIED_DEFS: [&str; 4] = ["stderr", "debug", "halt", "halt_error"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JqError {
    #[error("jq program does not compile: {0}")]
    Compile(String),
    /// The worker process that runs jq could not be started or set up.
    #[error("cannot run jq: {0}")]
    Worker(String),
}

/// A compiled program; `$event` is its one global variable.
pub struct Program {
    filter: jaq_core::Filter<data::JustLut<Val>>,
}

/// Compiles `code`, naming `origin` (a file name, or "--until") in errors.
pub fn compile(code: &str, origin: &str) -> Result<Program, JqError> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .filter(|def| !DENIED_DEFS.contains(&def.name));
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs())
        .filter(|(name, _, _)| !DENIED.contains(name));
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errors| JqError::Compile(describe_load_errors(code, origin, &errors)))?;
    let filter = Compiler::default()
        .with_funs(funs)
        .with_global_vars(["$event"])
        .compile(modules)
        .map_err(|errors| {
            let missing: Vec<(&str, String)> = errors
                .iter()
                .flat_map(|(_, errs)| {
                    errs.iter()
                        .map(|(name, undefined)| (*name, undefined_name(name, undefined)))
                })
                .collect();
            let sandboxed = missing.iter().any(|(name, _)| {
                DENIED.contains(name) || DENIED_DEFS.contains(name) || *name == "$ENV"
            });
            let names: Vec<String> = missing.into_iter().map(|(_, text)| text).collect();
            let hint = if sandboxed {
                " (filters that read the environment, clock or input are not available)"
            } else {
                ""
            };
            JqError::Compile(format!("{origin}: {}{hint}", names.join(", ")))
        })?;
    Ok(Program { filter })
}

/// One line naming where the program stops making sense and what was expected there.
fn describe_load_errors(
    code: &str,
    origin: &str,
    errors: &[(File<&str, ()>, load::Error<&str>)],
) -> String {
    // Parser and lexer errors carry the rest of the input where they stopped.
    let place = |rest: &str| {
        let offset = (rest.as_ptr() as usize).wrapping_sub(code.as_ptr() as usize);
        line_column(code, offset)
    };
    let found = |rest: &str| match rest.chars().next() {
        None => "the end".to_string(),
        Some(_) => format!("`{}`", rest.chars().take(12).collect::<String>()),
    };
    let mut problems = Vec::new();
    for (_, error) in errors {
        match error {
            load::Error::Parse(errs) => problems.extend(errs.iter().map(|(expected, rest)| {
                format!(
                    "expected {} at {}, found {}",
                    expected.as_str(),
                    place(rest),
                    found(rest)
                )
            })),
            load::Error::Lex(errs) => problems.extend(errs.iter().map(|(expected, rest)| {
                format!(
                    "expected {} at {}, found {}",
                    expected.as_str(),
                    place(rest),
                    found(rest)
                )
            })),
            load::Error::Io(errs) => {
                problems.extend(errs.iter().map(|(path, err)| format!("{path}: {err}")))
            }
        }
    }
    format!("{origin}: syntax error: {}", problems.join("; "))
}

/// The line and column (both from 1, columns in characters) of a byte offset into `code`; an
/// offset outside it counts as the end.
fn line_column(code: &str, offset: usize) -> String {
    let before = code.get(..offset.min(code.len())).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    format!("line {line}, column {column}")
}

/// `filter env/0` or `variable $x`, from the compiler's report of what it could not find.
fn undefined_name(name: &str, undefined: &impl std::fmt::Debug) -> String {
    let kind = format!("{undefined:?}");
    match kind
        .strip_prefix("Filter(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        Some(arity) => format!("undefined filter {name}/{arity}"),
        None => format!("undefined {} {name}", kind.to_lowercase()),
    }
}

impl Program {
    /// Runs the program on `input` with `$event` bound to `event`: the first output, or why
    /// there is none.
    pub fn run_val(&self, input: Val, event: Val) -> Result<Val, String> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([event]));
        let mut outputs = self.filter.id.run((ctx, input)).map(jaq_core::unwrap_valr);
        match outputs.next() {
            Some(Ok(value)) => Ok(value),
            // Bounded where it is made: every failed step keeps its message.
            Some(Err(err)) => Err(crate::display::bounded_message(&err.to_string())),
            None => Err("the program produced no output (use `.` to keep the state)".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::convert;
    use super::*;
    use serde_json::{json, Value};

    fn run(code: &str, input: Value, event: Value) -> Result<Value, String> {
        let parse = |value: Value| convert::parse(value.to_string().as_bytes()).unwrap();
        let output = compile(code, "test")
            .unwrap()
            .run_val(parse(input), parse(event))?;
        Ok(serde_json::from_str(&convert::to_json(&output, 1 << 20).unwrap()).unwrap())
    }

    #[test]
    fn an_error_quoting_a_huge_value_is_kept_short() {
        // Every failed step keeps its message: a 1 MB one per event once aborted rewind.
        let err = run(r#"error("y" * 1000000)"#, json!(null), json!(null)).unwrap_err();
        assert!(
            err.len() < crate::display::LINE_BYTES,
            "{} bytes",
            err.len()
        );
        assert!(err.contains("more bytes)"), "{err}");
    }

    #[test]
    fn folds_with_event_bound() {
        let code =
            r#"if $event.type == "Deposited" then .balance += $event.data.amount else . end"#;
        let event = json!({"type": "Deposited", "data": {"amount": 5}});
        assert_eq!(
            run(code, json!({"balance": 10}), event),
            Ok(json!({"balance": 15}))
        );
    }

    #[test]
    fn standard_library_is_available() {
        assert_eq!(
            run("map(. * 2) | add", json!([1, 2]), json!(null)),
            Ok(json!(6))
        );
    }

    #[test]
    fn environment_and_clock_are_not() {
        for code in ["env", "now", "$ENV", "input", "debug", "halt"] {
            assert!(compile(code, "test").is_err(), "{code} should not compile");
        }
    }

    #[test]
    fn errors_and_empty_output_are_reported() {
        assert!(run("error(\"boom\")", json!(1), json!(null))
            .unwrap_err()
            .contains("boom"));
        assert!(run("empty", json!(1), json!(null))
            .unwrap_err()
            .contains("no output"));
        let err = compile(".a | ", "reducer.jq").err().unwrap().to_string();
        assert!(err.contains("reducer.jq"), "{err}");
    }

    /// A multi-line reducer's typo is placed by line and column, not a flat offset.
    #[test]
    fn syntax_errors_say_line_and_column() {
        let code = "if $event.type == \"Opened\" then\n  {balance: 0}\nelse\n  .balance +* 1\nend";
        let err = compile(code, "reducer.jq").err().unwrap().to_string();
        assert!(err.contains("at line 4, column 12, found `+*"), "{err}");
        assert_eq!(line_column("ab\ncd", 4), "line 2, column 2");
        assert_eq!(line_column("é\nü", 5), "line 2, column 2");
        assert_eq!(line_column("x", 99), "line 1, column 2");
    }
}
