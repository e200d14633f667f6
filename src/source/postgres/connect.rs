//! From a `postgres://` URL to a connected client, the way libpq would get there: the URL,
//! then rewind's settings, then `PG*` variables, then `~/.pgpass` for the password; TLS as
//! `sslmode` says; connecting bounded by `connect_timeout` (default 10 s).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::mpsc;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use postgres::config::{Host, SslMode as WireSsl};
use postgres_openssl::MakeTlsConnector;

use super::errors::connect_error;
use super::PostgresOptions;
use crate::source::SourceError;

/// Waited for a server when neither the URL, the settings nor `PGCONNECT_TIMEOUT` say.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's `sslmode`, all of it (the client library itself knows the first three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    /// The server's certificate must chain to a trusted root.
    VerifyCa,
    /// And name the host connected to.
    VerifyFull,
}

impl FromStr for SslMode {
    type Err = SourceError;

    fn from_str(text: &str) -> Result<SslMode, SourceError> {
        match text {
            "disable" => Ok(SslMode::Disable),
            // Without a plain fallback client-side, allow behaves as prefer.
            "allow" | "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            _ => Err(SourceError::Option(crate::source::BadOption(format!(
                "sslmode {text:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
            )))),
        }
    }
}

/// Everything needed to connect, resolved once.
pub struct Target {
    pub config: postgres::Config,
    pub ssl: SslMode,
    pub root_cert: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// The schema tables are looked for in (`?schema=`), if not the server's current one.
    pub schema: Option<String>,
    /// The URL with its password removed.
    pub shown: String,
}

/// Where the settings come from that libpq reads from the environment; tests pass their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Parameters rewind handles itself; the rest go to the client library as given.
const OURS: [&str; 4] = ["schema", "sslmode", "sslrootcert", "application_name"];

pub fn resolve(spec: &str, options: &PostgresOptions, env: Env<'_>) -> Result<Target, SourceError> {
    let shown = redact(spec);
    let (prefix, userinfo, rest) = split_userinfo(spec);
    let (hosts_and_path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let base = match userinfo {
        Some(userinfo) => format!("{prefix}{userinfo}@{hosts_and_path}"),
        None => format!("{prefix}{hosts_and_path}"),
    };
    let mut ours = std::collections::HashMap::new();
    let mut passed = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        if OURS.contains(&key.as_str()) {
            ours.insert(key, percent_decode(value));
        } else {
            passed.push(pair);
        }
    }
    let rebuilt = match passed.is_empty() {
        true => base,
        false => format!("{base}?{}", passed.join("&")),
    };
    let mut config = postgres::Config::from_str(&rebuilt).map_err(|err| {
        SourceError::Option(crate::source::BadOption(format!(
            "{shown} is not a PostgreSQL URL rewind can use: {err} (postgres://USER@HOST:PORT/DATABASE?sslmode=…&schema=…)"
        )))
    })?;
    let named = (
        config.get_hosts().to_vec(),
        config.get_ports().to_vec(),
        config.get_user().map(str::to_string),
        config.get_dbname().map(str::to_string),
    );
    fill_from_env(&mut config, env);
    // What the environment filled in is named too, so an error says which server it is.
    let filled = named
        != (
            config.get_hosts().to_vec(),
            config.get_ports().to_vec(),
            config.get_user().map(str::to_string),
            config.get_dbname().map(str::to_string),
        );
    let shown = match filled {
        true => format!("{shown} ({})", resolved_target(&config)),
        false => shown,
    };
    let ssl = match ours
        .get("sslmode")
        .cloned()
        .or(options.sslmode.clone())
        .or_else(|| env("PGSSLMODE"))
    {
        Some(mode) => mode.parse()?,
        None => SslMode::Prefer,
    };
    config.ssl_mode(match ssl {
        SslMode::Disable => WireSsl::Disable,
        SslMode::Prefer => WireSsl::Prefer,
        _ => WireSsl::Require,
    });
    let connect_timeout = match config.get_connect_timeout() {
        Some(timeout) => *timeout,
        None => options
            .connect_timeout
            .or_else(|| {
                env("PGCONNECT_TIMEOUT")
                    .and_then(|s| s.trim().parse().ok())
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs)
            })
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
    };
    config.connect_timeout(connect_timeout);
    config.application_name("rewind");
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD").or_else(|| pgpass_password(&config, env)) {
            config.password(password);
        }
    }
    Ok(Target {
        config,
        ssl,
        root_cert: ours
            .get("sslrootcert")
            .cloned()
            .or_else(|| env("PGSSLROOTCERT"))
            .map(PathBuf::from),
        connect_timeout,
        schema: ours.get("schema").cloned().or(options.schema.clone()),
        shown,
    })
}

/// `user@host:port/database` as the connection will use them.
fn resolved_target(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(dir)) => dir.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let database = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{database}")
}

/// Host, port, user and database from `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE` where the
/// URL names none; then libpq's defaults (the local socket dir, 5432).
fn fill_from_env(config: &mut postgres::Config, env: Env<'_>) {
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        let hosts = env("PGHOST").unwrap_or_else(|| {
            let socket_dir = "/var/run/postgresql";
            match std::path::Path::new(socket_dir).is_dir() {
                true => socket_dir.to_string(),
                false => "localhost".to_string(),
            }
        });
        for host in hosts.split(',') {
            config.host(host);
        }
    }
    if config.get_ports().is_empty() {
        let port = env("PGPORT")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(5432);
        config.port(port);
    }
    if config.get_user().is_none() {
        if let Some(user) = env("PGUSER").or_else(|| env("USER")) {
            config.user(&user);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            config.dbname(&db);
        }
    }
}

/// The password for the first host from the password file, matched as libpq matches it
/// (a socket dir matches `localhost` too).
fn pgpass_password(config: &postgres::Config, env: Env<'_>) -> Option<String> {
    let path = env("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".pgpass")))?;
    let user = config.get_user()?;
    let database = config.get_dbname().unwrap_or(user);
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let hosts: Vec<String> = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => vec![name.clone()],
        Some(Host::Unix(dir)) => vec!["localhost".into(), dir.display().to_string()],
        None => vec![config.get_hostaddrs().first()?.to_string()],
    };
    hosts
        .iter()
        .find_map(|host| super::pgpass::lookup(&path, host, port, database, user))
}

/// The TLS setup `sslmode` asks for: encryption only, or a certificate checked against the
/// system's roots (or `sslrootcert`), and for verify-full the host name too.
fn tls(target: &Target) -> Result<MakeTlsConnector, SourceError> {
    let failed = |err: openssl::error::ErrorStack| {
        SourceError::open_with(format!("cannot set up TLS for {}", target.shown), err)
    };
    let mut builder = SslConnector::builder(SslMethod::tls()).map_err(failed)?;
    match target.ssl {
        SslMode::VerifyCa | SslMode::VerifyFull => {
            if let Some(ca) = &target.root_cert {
                builder.set_ca_file(ca).map_err(|err| {
                    SourceError::open_with(format!("cannot read sslrootcert {}", ca.display()), err)
                })?;
            }
            builder.set_verify(SslVerifyMode::PEER);
        }
        _ => builder.set_verify(SslVerifyMode::NONE),
    }
    let mut connector = MakeTlsConnector::new(builder.build());
    if target.ssl != SslMode::VerifyFull {
        connector.set_callback(|config, _| {
            config.set_verify_hostname(false);
            Ok(())
        });
    }
    Ok(connector)
}

/// Connects, giving up after the connect timeout even when a server accepts the socket and
/// then says nothing (the client library bounds only the socket's connect).
pub fn connect(target: &Target) -> Result<postgres::Client, SourceError> {
    let tls = tls(target)?;
    let (sent, answer) = mpsc::channel();
    let config = target.config.clone();
    // A connect that hangs is left to the OS on its thread; the command goes on without it.
    std::thread::Builder::new()
        .name("postgres-connect".into())
        .spawn(move || {
            let _ = sent.send(config.connect(tls));
        })
        .map_err(|err| SourceError::open_with("cannot start connecting", err))?;
    match answer.recv_timeout(target.connect_timeout + Duration::from_millis(500)) {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(err)) => Err(connect_error(err, target)),
        Err(_) => Err(SourceError::open(format!(
            "{} did not answer within {} s (connect_timeout); check the host and port, or raise --pg-connect-timeout",
            target.shown,
            target.connect_timeout.as_secs_f64()
        ))),
    }
}

/// `postgres://USERINFO@REST` split as the client library reads it: the user info runs
/// to the first `@` whatever it holds, so a password may contain `/`, `?` or `:` and
/// still log in. Splitting any other way would show such a password.
fn split_userinfo(spec: &str) -> (&str, Option<&str>, &str) {
    let prefix_len = spec.find("://").map_or(0, |at| at + 3);
    let (prefix, rest) = spec.split_at(prefix_len);
    match rest.split_once('@') {
        Some((userinfo, rest)) => (prefix, Some(userinfo), rest),
        None => (prefix, None, rest),
    }
}

/// The URL as it may be shown: no password in the user info, no `password` parameter.
pub fn redact(spec: &str) -> String {
    let (prefix, userinfo, rest) = split_userinfo(spec);
    let prefix = match prefix.is_empty() {
        true => "postgres://",
        false => prefix,
    };
    let (base, query) = match rest.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (rest, None),
    };
    let mut shown = match userinfo {
        Some(userinfo) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{prefix}{user}@{base}")
        }
        None => format!("{prefix}{base}"),
    };
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let key = pair.split('=').next().unwrap_or("");
                !percent_decode(key).to_lowercase().contains("password")
            })
            .collect();
        if !kept.is_empty() {
            shown.push('?');
            shown.push_str(&kept.join("&"));
        }
    }
    shown
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact("postgres://ada:s3cret@db:5432/shop?sslmode=require&password=x"),
            "postgres://ada@db:5432/shop?sslmode=require"
        );
        assert_eq!(
            redact("postgresql://ada:p%40ss@h/db"),
            "postgresql://ada@h/db"
        );
        assert_eq!(
            redact("postgres:///db?host=/run/postgresql"),
            "postgres:///db?host=/run/postgresql"
        );
        // Generated passwords hold `/`, `?`, `:` and `=`: the user info still ends at
        // the first `@`, as the client library reads it.
        for password in ["Ab/Cd+Ef==", "pa?ss", "a:b/c?d=e&f"] {
            let spec = format!("postgres://ada:{password}@db:5432/shop?sslmode=require");
            assert_eq!(redact(&spec), "postgres://ada@db:5432/shop?sslmode=require");
        }
    }

    #[test]
    fn a_password_with_url_characters_reaches_the_client_whole() {
        let env = env_of(&[]);
        let spec = "postgres://ada:Ab/Cd?x=1@db:5432/shop?sslmode=disable&schema=app";
        let target = resolve(spec, &PostgresOptions::default(), &env).unwrap();
        assert_eq!(target.config.get_password(), Some(&b"Ab/Cd?x=1"[..]));
        assert_eq!(target.config.get_dbname(), Some("shop"));
        assert_eq!(
            target.shown,
            "postgres://ada@db:5432/shop?sslmode=disable&schema=app"
        );
    }

    #[test]
    fn the_url_wins_then_settings_then_the_environment() {
        let env = env_of(&[
            ("PGHOST", "envhost"),
            ("PGPORT", "6543"),
            ("PGUSER", "envuser"),
            ("PGDATABASE", "envdb"),
            ("PGPASSWORD", "envpw"),
            ("PGSSLMODE", "require"),
        ]);
        let options = PostgresOptions::default();
        let target = resolve("postgres://", &options, &env).unwrap();
        assert_eq!(target.config.get_hosts(), &[Host::Tcp("envhost".into())]);
        assert_eq!(target.config.get_ports(), &[6543]);
        assert_eq!(target.config.get_user(), Some("envuser"));
        assert_eq!(target.config.get_dbname(), Some("envdb"));
        assert_eq!(target.config.get_password(), Some(&b"envpw"[..]));
        assert_eq!(target.ssl, SslMode::Require);
        assert_eq!(target.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(target.config.get_application_name(), Some("rewind"));

        let target = resolve(
            "postgres://ada:pw@db:1234/shop?sslmode=verify-full&schema=app&connect_timeout=3",
            &options,
            &env,
        )
        .unwrap();
        assert_eq!(target.config.get_hosts(), &[Host::Tcp("db".into())]);
        assert_eq!(target.config.get_user(), Some("ada"));
        assert_eq!(target.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(target.ssl, SslMode::VerifyFull);
        assert_eq!(target.schema.as_deref(), Some("app"));
        assert_eq!(target.connect_timeout, Duration::from_secs(3));
        assert_eq!(
            target.shown,
            "postgres://ada@db:1234/shop?sslmode=verify-full&schema=app&connect_timeout=3"
        );
    }

    #[test]
    fn a_socket_dir_host_and_bad_settings() {
        let env = env_of(&[]);
        let options = PostgresOptions::default();
        let target = resolve(
            "postgres:///db?host=/tmp/pg&port=5999&user=u",
            &options,
            &env,
        )
        .unwrap();
        assert_eq!(target.config.get_hosts(), &[Host::Unix("/tmp/pg".into())]);
        assert_eq!(target.config.get_ports(), &[5999]);
        assert!(resolve("postgres://h/db?sslmode=sometimes", &options, &env).is_err());
        let err = resolve("postgres://u:topsecret@h:notaport/db", &options, &env)
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("topsecret"), "{err}");
    }
}
