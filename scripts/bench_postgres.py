"""rewind against PostgreSQL, side by side with psql, on the 1M-event bench store.

    python3 scripts/bench_postgres.py [STORE [BENCH_DIR]]
        STORE      the bench store gen_bench wrote (default target/bench/bench.db)
        BENCH_DIR  where postgres.jsonl goes (default target/bench)
    RUNS=5       interleaved runs per metric (medians)
    REWIND_BIN   the release binary (default target/release/rewind)
    REWIND_PG_BIN, REWIND_PG_USER, REWIND_PG_TMPDIR  as for the tests (tests/support/postgres.rs)

Starts a throwaway cluster as the tests and tests/fixtures/postgres/generate.sh do (initdb
into a temp dir as an unprivileged user, a free loopback port, the socket in that dir),
copies the store into the native PostgreSQL schema with COPY, then measures:

- postgres_aggregates: `rewind aggregates URL` against psql running the very statements
  rewind ran for it, read from the server's statement log (target: ratio <= 1.3);
- postgres_state: `rewind state URL acc-big --format json` (200,000 events) against psql
  fetching the same rows with `COPY (rewind's own SELECT) TO STDOUT` plus rewind's own fold
  time, estimated as `rewind state` on the SQLite bench store less `sqlite3` reading and
  printing the same rows (an estimate that errs low, so the target is checked strictly),
  with rewind's peak RSS (target: ratio <= 1.5).

Writes one JSON line per metric to BENCH_DIR/postgres.jsonl and prints them. The cluster
is removed afterwards, also on failure.
"""

import csv
import io
import json
import os
import pwd
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STORE = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench/bench.db")
BENCH_DIR = Path(sys.argv[2] if len(sys.argv) > 2 else "target/bench")
RUNS = int(os.environ.get("RUNS", "5"))
REWIND = os.environ.get("REWIND_BIN", "target/release/rewind")
AGGREGATE = "acc-big"
SUPERUSER = "rewind"
PASSWORD = "rewind-bench-secret"
LIBPQ_ENV = [
    "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE",
    "PGSERVICE", "PGSERVICEFILE", "PGOPTIONS", "PGSSLMODE", "PGCONNECT_TIMEOUT", "PGAPPNAME",
]

# The native schema (tests/fixtures/postgres/native-schema.sql) with the bench's ids, which
# are not UUIDs, and its one aggregate without metadata; keys are added after the COPY.
SCHEMA = """
CREATE TABLE events (
    global_position bigint NOT NULL,
    event_id text NOT NULL,
    aggregate_id text NOT NULL,
    aggregate_type text NOT NULL,
    event_type text NOT NULL,
    event_data jsonb NOT NULL,
    metadata jsonb,
    version bigint NOT NULL,
    "timestamp" timestamptz NOT NULL
);
CREATE TABLE snapshots (
    aggregate_id text NOT NULL,
    version bigint NOT NULL,
    state jsonb NOT NULL,
    created_at timestamptz
);
"""
KEYS = """
ALTER TABLE events ADD PRIMARY KEY (global_position);
ALTER TABLE events ALTER global_position ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('events', 'global_position'), max(global_position)) FROM events;
ALTER TABLE events ADD UNIQUE (event_id);
ALTER TABLE events ADD UNIQUE (aggregate_id, version);
ALTER TABLE snapshots ADD PRIMARY KEY (aggregate_id, version);
VACUUM (ANALYZE) events;
VACUUM (ANALYZE) snapshots;
"""


def pg_bin():
    if os.environ.get("REWIND_PG_BIN"):
        return Path(os.environ["REWIND_PG_BIN"])
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not dirs:
        raise SystemExit("bench: PostgreSQL is not installed; run scripts/install-test-deps")
    return dirs[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway cluster run by an unprivileged user (PostgreSQL refuses root)."""

    def __init__(self):
        self.bin = pg_bin()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam(os.environ.get("REWIND_PG_USER", "postgres"))
        base = os.environ.get("REWIND_PG_TMPDIR") or ("/dev/shm" if Path("/dev/shm").is_dir() else None)
        self.root = Path(tempfile.mkdtemp(prefix="rewind-bench-pg-", dir=base))
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.port = free_port()
        self.started = False

    def server(self, *cmd):
        """Runs a server program as the server user, failing loudly."""
        user = self.user
        preexec = None
        if user:
            def preexec():
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
        out = subprocess.run([str(self.bin / cmd[0]), *cmd[1:]], cwd=self.root, preexec_fn=preexec,
                             capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
        if out.returncode != 0:
            raise SystemExit(f"bench: {cmd[0]} failed: {out.stdout}{out.stderr}")

    def start(self):
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD)
        if self.user:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
            os.chown(pwfile, self.user.pw_uid, self.user.pw_gid)
        self.server("initdb", "-D", str(self.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                    "--locale=C", "--no-sync")
        pwfile.unlink()
        # Throwaway and read-mostly: no flushing; buffers big enough to hold the store, so
        # both sides read it from memory.
        options = (f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off -c shared_buffers=1GB "
                   "-c max_wal_size=4GB -c log_line_prefix='%m [%p] app=%a '")
        self.server("pg_ctl", "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-w",
                    "-o", options, "start")
        self.started = True

    def stop(self):
        if self.started:
            try:
                self.server("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
            except SystemExit:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database="bench"):
        return f"postgres://{SUPERUSER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def psql(self, *args, database="bench", **kwargs):
        """psql over the socket (which trusts), with no user settings leaking in."""
        env = {k: v for k, v in os.environ.items() if k not in LIBPQ_ENV}
        cmd = [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-h", str(self.root), "-p", str(self.port), "-U", SUPERUSER, "-d", database, *args]
        return subprocess.run(cmd, env=env, check=True, **kwargs)

    def sql(self, text, database="bench"):
        """Statements fed on stdin, so each runs on its own (VACUUM, CREATE DATABASE)."""
        try:
            return self.psql("-f", "-", database=database, input=text, capture_output=True,
                             text=True).stdout
        except subprocess.CalledProcessError as err:
            raise SystemExit(f"bench: psql failed: {err.stderr}\n{text}")

    def log(self):
        return (self.root / "postgres.log").read_text(errors="replace")


def load(cluster):
    """The SQLite store's events (in store order, their global position) and snapshots."""
    started = time.perf_counter()
    cluster.sql("CREATE DATABASE bench", database="postgres")
    cluster.sql(SCHEMA)
    store = sqlite3.connect(f"file:{STORE}?mode=ro&immutable=1", uri=True)
    copies = [
        ("COPY events FROM STDIN WITH (FORMAT csv)",
         "SELECT rowid, event_id, aggregate_id, aggregate_type, event_type, event_data, metadata, "
         "version, timestamp FROM events ORDER BY rowid"),
        ("COPY snapshots FROM STDIN WITH (FORMAT csv)",
         "SELECT aggregate_id, version, state, created_at FROM snapshots"),
    ]
    for copy, select in copies:
        psql = subprocess.Popen(
            [str(cluster.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(cluster.root),
             "-p", str(cluster.port), "-U", SUPERUSER, "-d", "bench", "-c", copy],
            stdin=subprocess.PIPE, env={k: v for k, v in os.environ.items() if k not in LIBPQ_ENV},
        )
        writer = io.TextIOWrapper(psql.stdin, encoding="utf-8", newline="")
        rows = csv.writer(writer, lineterminator="\n")
        cursor = store.execute(select)
        while batch := cursor.fetchmany(10_000):
            rows.writerows(batch)
        writer.close()
        if psql.wait() != 0:
            raise SystemExit(f"bench: {copy} failed")
    cluster.sql(KEYS)
    count = int(cluster.sql("SELECT count(*) FROM events").strip())
    return count, time.perf_counter() - started


def timed(cmd, env=None):
    """Wall seconds and peak RSS (MB) of one run, output discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if status != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed with status {status}: {err}")
    return elapsed, usage.ru_maxrss / 1024


def rewind_env(home):
    """No libpq settings of the machine's, and a HOME without ~/.pgpass or rewind.toml."""
    env = {k: v for k, v in os.environ.items() if k not in LIBPQ_ENV}
    env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/config", XDG_CACHE_HOME=f"{home}/cache", NO_COLOR="1")
    return env


def statements_rewind_ran(cluster, env, args):
    """Runs rewind once with every statement logged; the statements it sent to read the
    store (not the catalog, not session or transaction control), parameters as given."""
    cluster.sql("ALTER DATABASE bench SET log_statement = 'all'")
    cluster.sql("ALTER DATABASE bench SET log_parameter_max_length = -1")
    mark = len(cluster.log())
    subprocess.run([REWIND, *args], env=env, stdout=subprocess.DEVNULL, check=True)
    time.sleep(0.5)
    cluster.sql("ALTER DATABASE bench RESET log_statement")
    statements, current = [], None
    for line in cluster.log()[mark:].splitlines():
        message = re.match(r"^\S+ \S+ \S+ \[\d+\] app=rewind (LOG|DETAIL):  (.*)$", line)
        if message:
            kind, text = message.groups()
            sql = re.match(r"(?:statement|execute [^:]*): (.*)$", text)
            if kind == "LOG" and text.startswith("execute fetch from "):
                current = None  # the next page of a portal already listed
            elif kind == "LOG" and sql:
                current = [sql.group(1), None]
                statements.append(current)
            elif kind == "DETAIL" and text.startswith("parameters: ") and current:
                current[1] = text[len("parameters: "):]
            else:
                current = None
        elif line.startswith(("\t", " ")) and current:
            current[0] += " " + line.strip()
        else:
            current = None
    reads = []
    for sql, params in statements:
        head = sql.lstrip().split(None, 1)[0].upper()
        # Transaction control (rewind reads each query in a savepoint of its one transaction).
        if head in ("SET", "BEGIN", "START", "COMMIT", "ROLLBACK", "SHOW", "SAVEPOINT", "RELEASE"):
            continue
        if re.search(r"\b(pg_catalog|information_schema|pg_namespace|pg_class|pg_attribute)\b|current_schema", sql):
            continue
        reads.append(bind(sql, params))
    if not reads:
        raise SystemExit(f"bench: found no statement of rewind {args[0]} in the server log")
    return reads


def bind(sql, params):
    """Puts the logged parameter values (`$1 = 'x', $2 = '5'`) into the SQL as literals."""
    if not params:
        return sql
    values = dict(re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", params))
    return re.sub(r"\$(\d+)", lambda m: values.get(m.group(1), m.group(0)), sql)


def median_pair(a, b):
    """Interleaves runs of two measurements so load changes hit both alike; medians and
    the first one's peak RSS."""
    times_a, times_b, rss = [], [], []
    for _ in range(RUNS):
        t, r = a()
        times_a.append(t)
        rss.append(r)
        times_b.append(b())
    return statistics.median(times_a), statistics.median(times_b), max(rss)


def row(metric, rewind_s, baseline_s, target, rss_mb, baseline, **extra):
    ratio = rewind_s / baseline_s
    return {"metric": metric, "rewind_s": round(rewind_s, 4), "baseline_s": round(baseline_s, 4),
            "ratio": round(ratio, 3), "target": target, "within_target": ratio <= target,
            "rss_mb": round(rss_mb, 1), "baseline": baseline, "runs": RUNS, **extra}


def measure(cluster, events):
    home = tempfile.mkdtemp(prefix="rewind-bench-home-")
    try:
        env = rewind_env(home)
        url = cluster.url()
        psql_env = {k: v for k, v in os.environ.items() if k not in LIBPQ_ENV}
        psql_tcp = [str(cluster.bin / "psql"), "-X", "-q", "-A", "-t", "-d", url]

        listed = statements_rewind_ran(cluster, env, ["aggregates", url])
        aggregates_sql = "; ".join(listed)
        rewind_list = [REWIND, "aggregates", url]
        psql_list = [*psql_tcp, "-c", aggregates_sql]
        r, b, rss = median_pair(lambda: timed(rewind_list, env), lambda: timed(psql_list, psql_env)[0])
        results = [row("postgres_aggregates", r, b, 1.3, rss,
                       "psql -c running the statements rewind ran (from the server log)",
                       events=events, baseline_sql=aggregates_sql)]

        ran = statements_rewind_ran(cluster, env, ["state", url, AGGREGATE, "--format", "json"])
        read = [s for s in ran
                if '"event_data"' in s and "ORDER BY" in s.upper()]
        if not read:
            raise SystemExit(f"bench: rewind state read no events with a statement bench knows: {ran}")
        copy = [*psql_tcp, "-c", f"COPY ({read[0]}) TO STDOUT"]
        rewind_state = [REWIND, "state", url, AGGREGATE, "--format", "json"]
        # rewind's fold of the same events: its state command on the SQLite store, less
        # sqlite3 reading (and printing) the same rows, so the estimate errs low.
        on_sqlite = [REWIND, "state", str(STORE), AGGREGATE, "--format", "json"]
        sqlite_read = ["sqlite3", f"file:{STORE}?mode=ro&immutable=1",
                       "SELECT aggregate_type, version, event_type, timestamp, event_data, metadata, "
                       f"rowid, event_id, aggregate_id FROM events WHERE aggregate_id = '{AGGREGATE}' "
                       "ORDER BY version"]
        copy_times, fold_times = [], []

        def baseline():
            copy_times.append(timed(copy, psql_env)[0])
            fold_times.append(max(0.0, timed(on_sqlite, env)[0] - timed(sqlite_read, psql_env)[0]))
            return copy_times[-1] + fold_times[-1]

        r, b, rss = median_pair(lambda: timed(rewind_state, env), baseline)
        rows = int(cluster.sql(f"SELECT count(*) FROM events WHERE aggregate_id = '{AGGREGATE}'").strip())
        results.append(row("postgres_state", r, b, 1.5, rss,
                           "psql COPY (rewind's SELECT) TO STDOUT + rewind's fold (rewind state on "
                           "the SQLite bench store less sqlite3 reading the same rows)",
                           events=rows, copy_s=round(statistics.median(copy_times), 4),
                           fold_s=round(statistics.median(fold_times), 4), baseline_sql=read[0]))
        return results
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main():
    if not STORE.exists():
        raise SystemExit(f"bench: no store at {STORE}; run cargo run --release --example gen_bench {STORE}")
    cluster = Cluster()
    try:
        cluster.start()
        print(f"bench: loading {STORE} into PostgreSQL", file=sys.stderr)
        events, took = load(cluster)
        print(f"bench: {events} events loaded in {took:.1f} s; measuring ({RUNS} runs)", file=sys.stderr)
        results = measure(cluster, events)
    finally:
        cluster.stop()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with open(BENCH_DIR / "postgres.jsonl", "w") as out:
        for result in results:
            line = json.dumps(result)
            out.write(line + "\n")
            print(line)


if __name__ == "__main__":
    main()
