//! A `--redact` path that matches nothing is said, on stderr and in the transcript's
//! header, instead of a header that claims a redaction which hid nothing.

mod support;

use support::{bad_input, demo_store, rewind, stderr, stdout};

fn demo() -> String {
    demo_store().to_string_lossy().into_owned()
}

fn export(args: &[&str]) -> std::process::Output {
    rewind()
        .env("REWIND_GENERATED_AT", "2026-03-01T00:00:00Z")
        .args(["export", &demo(), "acc-0003"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_path_that_matches_nothing_is_warned_about_per_path() {
    let output = export(&[
        "--format",
        "md",
        "--redact",
        ".owner",
        "--redact",
        ".ownr",
        "--redact",
        ".limits.weekly",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    let warnings: Vec<&str> = err.lines().collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(
        warnings[0].starts_with("rewind: redacted path .ownr matched nothing"),
        "{err}"
    );
    assert!(
        warnings[1].starts_with("rewind: redacted path .limits.weekly matched nothing"),
        "{err}"
    );
    let text = stdout(&output);
    assert!(
        !text.contains("Edsger Dijkstra"),
        "the path that matched still hides"
    );
    let warning = text.lines().find(|l| l.contains("Warning")).expect(&text);
    assert!(
        warning.contains("`.ownr`, `.limits.weekly` matched nothing"),
        "{warning}"
    );

    let output = export(&["--format", "jsonl", "--redact", ".ownr"]);
    let header: serde_json::Value =
        serde_json::from_str(stdout(&output).lines().next().unwrap()).unwrap();
    assert_eq!(header["redacted_unmatched"], serde_json::json!([".ownr"]));

    let html = export(&["--format", "html", "--redact", ".ownr"]);
    assert!(
        stdout(&html).contains("redacted path <code>.ownr</code> matched nothing"),
        "{}",
        stdout(&html)
    );

    let clean = export(&["--format", "md", "--redact", ".owner"]);
    assert_eq!(stderr(&clean), "");
    assert!(!stdout(&clean).contains("Warning"));
}

#[test]
fn redact_strict_refuses_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.md");
    let file = file.to_string_lossy();
    let err = bad_input(&[
        "export",
        &demo(),
        "acc-0003",
        "-o",
        &file,
        "--redact",
        ".owner",
        "--redact",
        ".ownr",
        "--redact-strict",
    ]);
    assert!(
        err.contains("--redact-strict: .ownr matched no value"),
        "{err}"
    );
    assert!(!std::path::Path::new(&*file).exists());
    let ok = export(&["--format", "md", "--redact", ".owner", "--redact-strict"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn a_trace_transcript_warns_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trace.md");
    let output = rewind()
        .args([
            "trace",
            &demo(),
            "req-7a1f",
            "-o",
            &file.to_string_lossy(),
            "--redact",
            ".nothing",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("redacted path .nothing matched nothing"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("**Warning:** redacted `.nothing` matched nothing"),
        "{text}"
    );
}
