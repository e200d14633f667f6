//! The server's and the client library's errors as one line a person can act on, the
//! original kept as the cause. None of them holds a password: the client library never
//! repeats one, and rewind names the server by its redacted URL.

use std::time::Duration;

use postgres::error::SqlState;

use super::connect::Target;
use crate::source::SourceError;

/// A failure to connect: refused, unknown host, bad password, no such database.
pub fn connect_error(err: postgres::Error, target: &Target) -> SourceError {
    let shown = &target.shown;
    if let Some(db) = err.as_db_error() {
        let code = db.code();
        let message = if db.message().contains("no encryption") {
            format!(
                "{shown} refused the login: {}; the server takes only encrypted connections here: use sslmode=require, or leave sslmode at its default (prefer)",
                db.message()
            )
        } else if code == &SqlState::INVALID_PASSWORD
            || code == &SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            format!(
                "{shown} refused the login: {}; check the user and password (URL, PGPASSWORD or ~/.pgpass)",
                db.message()
            )
        } else if code == &SqlState::INVALID_CATALOG_NAME {
            format!("{shown}: {}", db.message())
        } else {
            format!("cannot connect to {shown}: {}", db.message())
        };
        return SourceError::open_rephrasing(message, err);
    }
    let text = crate::display::error_chain(&err);
    if text.contains("password missing") {
        return SourceError::open_rephrasing(
            format!(
                "{shown} asks for a password and none was given: put it in the URL, PGPASSWORD or ~/.pgpass"
            ),
            err,
        );
    }
    if let Some(message) = certificate_refused(&text) {
        return SourceError::open_rephrasing(format!("cannot connect to {shown}: {message}"), err);
    }
    SourceError::open_with(format!("cannot connect to {shown}"), err)
}

/// OpenSSL's verification failure (`…:certificate verify failed:…:: REASON`) said as what
/// it means and what to do; the raw text names source files of OpenSSL's, not the server.
fn certificate_refused(text: &str) -> Option<String> {
    if !text.contains("certificate verify failed") {
        return None;
    }
    let reason = text.rsplit(": ").next().unwrap_or("").trim();
    let hint = if reason.contains("mismatch") {
        "connect by a name the certificate holds, or use sslmode=verify-ca to check only who signed it"
    } else if reason.contains("expired") || reason.contains("not yet valid") {
        "the server's certificate must be renewed"
    } else {
        "name the CA that signed it with sslrootcert=FILE (or PGSSLROOTCERT), or use sslmode=require to encrypt without checking it"
    };
    Some(format!(
        "the server's certificate did not pass verification ({reason}); {hint}"
    ))
}

/// A failure while reading: what was being done, and what to do about it.
pub fn read_error(
    err: postgres::Error,
    shown: &str,
    doing: &str,
    timeout: Duration,
) -> SourceError {
    if let Some(db) = err.as_db_error() {
        let code = db.code();
        if code == &SqlState::QUERY_CANCELED {
            return SourceError::read_rephrasing(
                format!(
                    "{shown}: the server stopped the query to {doing} after {} s (statement_timeout, set by --pg-timeout); raise --pg-timeout to wait longer",
                    timeout.as_secs_f64()
                ),
                err,
            );
        }
        if code == &SqlState::INSUFFICIENT_PRIVILEGE {
            let message = format!(
                "{shown}: {} while trying to {doing}; the role needs SELECT on the store's tables",
                db.message()
            );
            return SourceError::read_rephrasing(message, err);
        }
        if [
            &SqlState::ADMIN_SHUTDOWN,
            &SqlState::CRASH_SHUTDOWN,
            &SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(&code)
        {
            return lost(shown, doing, err);
        }
        let message = format!("could not {doing} from {shown}: {}", db.message());
        return SourceError::read_rephrasing(message, err);
    }
    if err.is_closed() || std::error::Error::source(&err).is_some_and(|e| e.is::<std::io::Error>())
    {
        return lost(shown, doing, err);
    }
    SourceError::read_with(format!("could not {doing} from {shown}"), err)
}

fn lost(shown: &str, doing: &str, err: postgres::Error) -> SourceError {
    SourceError::read_rephrasing(
        format!(
            "lost the connection to {shown} while trying to {doing}; nothing was read as complete, try again once the server is back"
        ),
        err,
    )
}
