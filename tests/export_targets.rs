//! Where `export -o` may write: never over the store it reads (by name, symlink or inode,
//! companions included), straight through to terminals, pipes, FIFOs and devices, never
//! replacing them, and an existing file replaced with `--force` keeps its mode.

mod support;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{bad_input, fingerprint, rewind, stderr, stdout, Store};

fn store() -> Store {
    let mut store = Store::native();
    store.event(
        "acc-1",
        1,
        "Opened",
        r#"{"balance": 0}"#,
        "2026-01-01T10:00:00Z",
    );
    store.event(
        "acc-1",
        2,
        "Deposited",
        r#"{"balance": 5}"#,
        "2026-01-01T11:00:00Z",
    );
    store.event(
        "acc-2",
        1,
        "Opened",
        r#"{"balance": 1}"#,
        "2026-01-01T12:00:00Z",
    );
    store
}

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The transcript as stdout gets it, to compare with what went elsewhere.
fn expected(store: &Store) -> String {
    let output = rewind()
        .env("REWIND_GENERATED_AT", "2026-03-01T12:00:00Z")
        .args(["export", &store.arg(), "acc-1", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn the_store_and_its_companions_are_never_a_target() {
    let store = store();
    let dir = store.dir.path();
    std::os::unix::fs::symlink(&store.path, dir.join("link.db")).unwrap();
    std::fs::hard_link(&store.path, dir.join("hard.db")).unwrap();
    let before = fingerprint(&store.path);
    let listing = names(dir);
    for target in [
        "store.db",
        "link.db",
        "hard.db",
        "store.db-wal",
        "store.db-shm",
        "store.db-journal",
    ] {
        let err = bad_input(&[
            "export",
            &store.arg(),
            "acc-1",
            "-o",
            &arg(&dir.join(target)),
            "--format",
            "jsonl",
            "--force",
        ]);
        assert!(err.contains("is the store being read"), "{target}: {err}");
    }
    // The same path spelled differently, relative to another directory.
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-1",
        "-o",
        &format!(
            "{}/../{}/store.db",
            dir.display(),
            dir.file_name().unwrap().to_string_lossy()
        ),
        "--format",
        "jsonl",
        "--force",
    ]);
    assert!(err.contains("is the store being read"), "{err}");
    assert_eq!(fingerprint(&store.path), before);
    assert_eq!(names(dir), listing);
    let listed = support::run(&["aggregates", &store.arg(), "--format", "json"]);
    assert_eq!(support::json(&listed).as_array().unwrap().len(), 2);

    // A transcript is not written over itself either.
    let transcript = dir.join("t.jsonl");
    std::fs::write(&transcript, expected(&store)).unwrap();
    let copy = std::fs::read(&transcript).unwrap();
    let err = bad_input(&[
        "export",
        &arg(&transcript),
        "acc-1",
        "-o",
        &arg(&transcript),
        "--force",
    ]);
    assert!(err.contains("is the store being read"), "{err}");
    assert_eq!(std::fs::read(&transcript).unwrap(), copy);
}

#[test]
fn devices_and_descriptors_are_written_through_without_force() {
    let store = store();
    let want = expected(&store);
    let export = |target: &str| {
        rewind()
            .env("REWIND_GENERATED_AT", "2026-03-01T12:00:00Z")
            .args([
                "export",
                &store.arg(),
                "acc-1",
                "--format",
                "jsonl",
                "-o",
                target,
            ])
            .output()
            .unwrap()
    };
    let dev = names(Path::new("/dev"));

    let output = export("/dev/null");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");

    let output = export("/dev/stdout");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), want);

    // A symlink to a descriptor is followed, not replaced, even with --force.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("out.jsonl");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    for force in [false, true] {
        let mut cmd = rewind();
        cmd.env("REWIND_GENERATED_AT", "2026-03-01T12:00:00Z")
            .args(["export", &store.arg(), "acc-1", "-o", &arg(&link)]);
        if force {
            cmd.arg("--force");
        }
        let output = cmd.output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), want);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    // A full device is an error naming it, in one line, and not a hint to use --force.
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-1",
        "--format",
        "md",
        "-o",
        "/dev/full",
    ]);
    assert!(
        err.contains("cannot write /dev/full") && err.contains("No space left"),
        "{err}"
    );
    assert!(!err.contains("--force"), "{err}");
    assert_eq!(names(Path::new("/dev")), dev, "files appeared in /dev");

    // Copies of /dev/null and /dev/full (device nodes elsewhere) stay devices.
    let made = Command::new("mknod")
        .args([&arg(&dir.path().join("null")), "c", "1", "3"])
        .status()
        .unwrap()
        .success()
        && Command::new("mknod")
            .args([&arg(&dir.path().join("full")), "c", "1", "7"])
            .status()
            .unwrap()
            .success();
    if made {
        let null = dir.path().join("null");
        let output = rewind()
            .args([
                "export",
                &store.arg(),
                "acc-1",
                "--format",
                "md",
                "-o",
                &arg(&null),
                "--force",
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(std::fs::metadata(&null)
            .unwrap()
            .file_type()
            .is_char_device());
        let full = dir.path().join("full");
        let err = bad_input(&[
            "export",
            &store.arg(),
            "acc-1",
            "--format",
            "md",
            "-o",
            &arg(&full),
            "--force",
        ]);
        assert!(err.contains("No space left"), "{err}");
        assert!(std::fs::metadata(&full)
            .unwrap()
            .file_type()
            .is_char_device());
        assert_eq!(names(dir.path()), vec!["full", "null", "out.jsonl"]);
    } else {
        eprintln!("skipped the device copies: mknod is not permitted here");
    }
}

#[test]
fn a_fifo_gets_the_transcript_and_one_nobody_reads_is_an_error_at_once() {
    let store = store();
    let want = expected(&store);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());

    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-1",
        "--format",
        "jsonl",
        "-o",
        &arg(&fifo),
    ]);
    assert!(err.contains("a FIFO that nothing reads"), "{err}");

    let reader = Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Until cat has opened its end, the FIFO has no reader: try again for a while.
    let mut written = None;
    for _ in 0..100 {
        let output = rewind()
            .env("REWIND_GENERATED_AT", "2026-03-01T12:00:00Z")
            .args([
                "export",
                &store.arg(),
                "acc-1",
                "--format",
                "jsonl",
                "-o",
                &arg(&fifo),
            ])
            .output()
            .unwrap();
        if output.status.success() {
            written = Some(output);
            break;
        }
        assert!(
            stderr(&output).contains("nothing reads"),
            "{}",
            stderr(&output)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(written.is_some(), "the export never found the reader");
    let read = reader.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(read.stdout).unwrap(), want);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(names(dir.path()), vec!["pipe"]);
}

#[test]
fn a_replaced_file_keeps_its_mode_and_a_directory_is_no_target() {
    let store = store();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("private.jsonl");
    std::fs::write(&target, "old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = rewind()
        .args([
            "export",
            &store.arg(),
            "acc-1",
            "-o",
            &arg(&target),
            "--force",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("{\"rewind_transcript\""));

    let sub = dir.path().join("sub.md");
    std::fs::create_dir(&sub).unwrap();
    let err = bad_input(&["export", &store.arg(), "acc-1", "-o", &arg(&sub), "--force"]);
    assert!(
        err.contains("it is a directory; name a file in it"),
        "{err}"
    );
    assert_eq!(names(dir.path()), vec!["private.jsonl", "sub.md"]);
}
