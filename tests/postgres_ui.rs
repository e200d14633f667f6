//! The terminal UI on a PostgreSQL store, in a real terminal (tmux) against a real server:
//! it draws before the connection is made, lists the aggregates, opens one (from the list or
//! named on the command line), and a connection that fails (a wrong password, nothing
//! listening, a server that never answers) is one clear line in the UI, never a panic, with
//! no password on the screen.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::pg_cli::PgCli;
use support::postgres::{PgDatabase, PgServer, SUPERUSER_PASSWORD};
use support::tmux::{tmux_available, Tmux};

fn native(test: &str) -> Option<PgDatabase<'static>> {
    if !tmux_available() {
        return None;
    }
    let db = PgServer::shared(test)?.create_database(test);
    db.load_fixture("native.sql");
    Some(db)
}

fn assert_no_password(screen: &str, password: &str) {
    assert!(!screen.contains(password), "the password shows:\n{screen}");
    assert!(!screen.contains("panicked"), "{screen}");
}

#[test]
fn the_ui_lists_a_postgres_store_and_opens_an_aggregate() {
    let Some(db) = native("ui_browse") else {
        return;
    };
    let cli = PgCli::new();
    let tmux = Tmux::start("pg-browse", &cli.shell_line(&[&db.url()]));
    let screen = tmux.wait_for(&["aggregates", "acc-1", "acc-2", "order-1", "3 of 3"]);
    // The source is named without its password.
    let shown = format!("@127.0.0.1:{}/{}", db.server().port(), db.name());
    assert!(screen.contains(&shown), "{shown} named:\n{screen}");
    assert_no_password(&screen, SUPERUSER_PASSWORD);

    tmux.keys(&["/", "order-1", "Enter", "Enter"]);
    tmux.wait_for(&["order-1 · order", "v3/3", "state after v3"]);
    tmux.keys(&["g"]);
    tmux.wait_for(&["v1/3", "state after v1"]);
    tmux.keys(&["q", "Escape", "L"]);
    tmux.wait_for(&["store log", "│ position 1 "]);
    // Back to the list first, then quit: each key once its screen is up.
    tmux.keys(&["q"]);
    tmux.wait_for(&["3 aggregates", "L log"]);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for(&["rewind exited 0"]);
    assert_no_password(&screen, SUPERUSER_PASSWORD);

    // Named on the command line, the aggregate opens once the list is in.
    let tmux = Tmux::start(
        "pg-open-at",
        &cli.shell_line(&[&db.url(), "acc-1", "--at", "2"]),
    );
    tmux.wait_for(&["acc-1 · account", "v2/4", "state after v2"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_wrong_password_is_one_line_in_the_ui() {
    let Some(db) = native("ui_password") else {
        return;
    };
    let cli = PgCli::new();
    let wrong = "Wrong9secret";
    let url = db
        .server()
        .url(support::postgres::SUPERUSER, wrong, db.name());
    let tmux = Tmux::start("pg-password", &cli.shell_line(&[&url]));
    let screen = tmux.wait_for(&["could not list aggregates: ", "refused the login"]);
    let line = screen
        .lines()
        .find(|l| l.contains("refused the login"))
        .unwrap();
    assert!(line.contains("password authentication failed"), "{line}");
    assert_no_password(&screen, wrong);
    // Still a working UI: it quits cleanly.
    tmux.keys(&["q"]);
    let screen = tmux.wait_for(&["rewind exited 0"]);
    assert_no_password(&screen, wrong);
}

#[test]
fn an_unreachable_or_silent_server_is_one_line_in_the_ui() {
    if !tmux_available() {
        return;
    }
    let cli = PgCli::new();
    // Nothing listens: refused at once.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://ada:Pw9secret@127.0.0.1:{closed}/shop");
    let tmux = Tmux::start("pg-refused", &cli.shell_line(&[&url]));
    let screen = tmux.wait_for(&[&format!(
        "could not list aggregates: cannot connect to postgres://ada@127.0.0.1:{closed}/shop"
    )]);
    assert_no_password(&screen, "Pw9secret");
    tmux.keys(&["q"]);
    tmux.wait_for(&["rewind exited 0"]);

    // A server that accepts and never answers: the UI is drawn and says it is loading while
    // the connect timeout runs, then says what happened.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().take(2) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let url = format!("postgres://ada:Pw9secret@127.0.0.1:{port}/shop?connect_timeout=3");
    let tmux = Tmux::start("pg-silent", &cli.shell_line(&[&url]));
    let connecting = format!("connecting to postgres://ada@127.0.0.1:{port}/shop");
    let screen = tmux.wait_for_within(Duration::from_secs(2), &[&connecting]);
    assert!(!screen.contains("did not answer"), "{screen}");
    let screen = tmux.wait_for(&["did not answer within 3 s (connect_timeout)"]);
    assert_no_password(&screen, "Pw9secret");
    tmux.keys(&["q"]);
    tmux.wait_for(&["rewind exited 0"]);
}
