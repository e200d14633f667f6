//! Compiling a jq program once, with only the filters a sandbox allows.

use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::Value;

use super::convert::{from_val, to_val};

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
    let position = |rest: &str| {
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
                    position(rest),
                    found(rest)
                )
            })),
            load::Error::Lex(errs) => problems.extend(errs.iter().map(|(expected, rest)| {
                format!(
                    "expected {} at {}, found {}",
                    expected.as_str(),
                    position(rest),
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

/// `line 3, column 5` (both from 1, columns in characters) for a byte offset into `code`;
/// an offset outside it (or inside a character) counts as the end.
fn line_column(code: &str, offset: usize) -> String {
    let before = code.get(..offset).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
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
    /// Runs the program on `input` with `$event` bound to the JSON text `event`; the first
    /// output, or why there is none.
    pub fn run(&self, input: &Value, event: &str) -> Result<Value, String> {
        self.run_val(to_val(input), parse_event(event)?)
            .map(|v| from_val(&v))
    }

    /// As `run`, keeping jaq's representation so a fold converts its state only at the ends.
    pub fn run_val(&self, input: Val, event: Val) -> Result<Val, String> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([event]));
        let mut outputs = self.filter.id.run((ctx, input)).map(jaq_core::unwrap_valr);
        match outputs.next() {
            Some(Ok(value)) => Ok(value),
            Some(Err(err)) => Err(err.to_string()),
            None => Err("the program produced no output (use `.` to keep the state)".into()),
        }
    }
}

/// `$event` text straight into jaq's values, with no serde_json tree in between.
pub(super) fn parse_event(text: &str) -> Result<Val, String> {
    jaq_json::read::parse_single(text.as_bytes())
        .map_err(|err| format!("$event does not parse: {err}"))
}

pub(super) fn into_value(val: &Val) -> Value {
    from_val(val)
}

pub(super) fn from_value(value: &Value) -> Val {
    to_val(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(code: &str, input: Value, event: Value) -> Result<Value, String> {
        compile(code, "test")
            .unwrap()
            .run(&input, &event.to_string())
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
