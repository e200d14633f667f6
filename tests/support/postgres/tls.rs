//! TLS for a test cluster: a throwaway certificate authority (made by the real `openssl`
//! command line) that signs a server certificate for `localhost`, and a cluster that takes
//! TCP connections only over TLS, so a connection that succeeds proves it was encrypted.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::PgServer;

/// A CA of the test's own, in no system trust store, and the certificate it signed.
pub struct TestCa {
    dir: tempfile::TempDir,
}

impl TestCa {
    /// A CA and a server certificate for the name `localhost` only (not `127.0.0.1`), so a
    /// host-name check can both pass and fail against the same server.
    pub fn new() -> TestCa {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let output = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl runs (scripts/install-test-deps installs it)");
            assert!(
                output.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=rewind test CA"];
        ca.extend(ec);
        ca.extend(["-keyout", "ca.key", "-out", "ca.crt"]);
        openssl(&ca);
        let mut request = vec!["req", "-subj", "/CN=localhost"];
        request.extend(ec);
        request.extend(["-keyout", "server.key", "-out", "server.csr"]);
        openssl(&request);
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
        TestCa { dir }
    }

    /// The CA's certificate, for `sslrootcert`.
    pub fn root_cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

impl PgServer {
    /// Serves `ca`'s server certificate and refuses TCP connections without TLS (the socket
    /// still trusts, for the harness's psql); in force once this returns.
    pub fn require_tls(&self, ca: &TestCa) {
        let data = self.data_dir();
        for name in ["server.crt", "server.key"] {
            let target = data.join(name);
            std::fs::copy(ca.file(name), &target).unwrap();
            self.hand_over(&target);
            set_mode(&target, 0o600);
        }
        let hba = data.join("pg_hba.conf");
        std::fs::write(
            &hba,
            "local all all trust\n\
             hostnossl all all 0.0.0.0/0 reject\n\
             hostnossl all all ::/0 reject\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostssl all all ::1/128 scram-sha-256\n",
        )
        .unwrap();
        self.hand_over(&hba);
        self.psql_in("postgres", "ALTER SYSTEM SET ssl = on;")
            .unwrap();
        self.psql_in("postgres", "SELECT pg_reload_conf();")
            .unwrap();
        let started = std::time::Instant::now();
        while self.psql_in("postgres", "SHOW ssl;").unwrap().trim() != "on" {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "ssl never came on: {}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
