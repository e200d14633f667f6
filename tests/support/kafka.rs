//! A real Kafka-compatible broker (tansu, in memory, on a free loopback port) for one test.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

/// The broker's process; killed when the guard goes out of scope, even if the test panics.
pub struct Broker {
    child: Child,
    pub port: u16,
    tansu: PathBuf,
    producer: BaseProducer,
    _logs: tempfile::TempDir,
}

/// What a test produces: key, value (None: tombstone), headers, partition.
pub struct Rec<'a> {
    pub key: Option<&'a str>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [(&'a str, &'a str)],
    pub partition: Option<i32>,
    /// The record's timestamp (CreateTime); `None` is when it is produced.
    pub timestamp_ms: Option<i64>,
}

impl<'a> Rec<'a> {
    pub fn json(key: &'a str, value: &'a str) -> Rec<'a> {
        Rec {
            key: Some(key),
            value: Some(value.as_bytes()),
            headers: &[],
            partition: None,
            timestamp_ms: None,
        }
    }

    pub fn at(mut self, timestamp_ms: i64) -> Rec<'a> {
        self.timestamp_ms = Some(timestamp_ms);
        self
    }

    pub fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Rec<'a> {
        self.headers = headers;
        self
    }

    pub fn partition(mut self, partition: i32) -> Rec<'a> {
        self.partition = Some(partition);
        self
    }
}

fn tansu_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TANSU") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("tansu"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let home = PathBuf::from(std::env::var_os("HOME")?);
        let cargo = home.join(".cargo/bin/tansu");
        cargo.is_file().then_some(cargo)
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Broker {
    /// Starts a broker, or returns `None` (saying so loudly) when tansu is not installed and
    /// `REWIND_REQUIRE_KAFKA` is not set; with it set, a missing tansu fails the test.
    pub fn start(test: &str) -> Option<Broker> {
        let Some(tansu) = tansu_binary() else {
            if std::env::var("REWIND_REQUIRE_KAFKA").is_ok_and(|v| v == "1") {
                panic!("REWIND_REQUIRE_KAFKA=1 but tansu is not installed; run scripts/install-test-deps");
            }
            // Straight to the stderr handle: libtest's capture would hide an eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: tansu (a Kafka-compatible broker) is not installed; \
                 run scripts/install-test-deps, or scripts/test which requires it"
            );
            return None;
        };
        let port = free_port();
        let listener = format!("tcp://127.0.0.1:{port}");
        let logs = tempfile::tempdir().expect("a temp dir");
        let log = std::fs::File::create(logs.path().join("tansu.log")).expect("a log file");
        let child = Command::new(&tansu)
            .args(["broker", "--listener-url", &listener])
            .args(["--advertised-listener-url", &listener])
            .args(["--storage-engine", "memory://tansu/"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", tansu.display()));
        let producer = ClientConfig::new()
            .set("bootstrap.servers", format!("127.0.0.1:{port}"))
            .set("linger.ms", "0")
            .set("allow.auto.create.topics", "false")
            .create()
            .expect("a producer");
        let broker = Broker {
            child,
            port,
            tansu,
            producer,
            _logs: logs,
        };
        broker.wait_until_listening();
        Some(broker)
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "tansu did not start listening on port {} within 30 s",
            self.port
        );
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self, topic: &str) -> String {
        format!("kafka://{}/{topic}", self.bootstrap())
    }

    pub fn create_topic(&self, name: &str, partitions: u32) {
        let broker = format!("tcp://127.0.0.1:{}", self.port);
        let output = Command::new(&self.tansu)
            .args(["topic", "create", name, "--broker", &broker])
            .args(["--partitions", &partitions.to_string()])
            .output()
            .expect("tansu topic create runs");
        assert!(
            output.status.success(),
            "tansu topic create {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Produces records in order and waits until the broker has them all.
    pub fn produce(&self, topic: &str, records: &[Rec<'_>]) {
        for rec in records {
            let mut headers = OwnedHeaders::new();
            for (name, value) in rec.headers {
                headers = headers.insert(Header {
                    key: name,
                    value: Some(*value),
                });
            }
            let mut record = BaseRecord::<str, [u8]>::to(topic).headers(headers);
            if let Some(key) = rec.key {
                record = record.key(key);
            }
            if let Some(value) = rec.value {
                record = record.payload(value);
            }
            if let Some(partition) = rec.partition {
                record = record.partition(partition);
            }
            if let Some(timestamp_ms) = rec.timestamp_ms {
                record = record.timestamp(timestamp_ms);
            }
            self.producer
                .send(record)
                .map_err(|(err, _)| err)
                .expect("the record is queued");
            self.producer.poll(Duration::ZERO);
        }
        self.producer
            .flush(Duration::from_secs(20))
            .expect("the broker acknowledges every record");
    }
}

impl Broker {
    /// Produces with `tansu cat`, which writes one batch whose high watermark tansu
    /// under-reports: the case where no end-of-partition event ever comes.
    pub fn produce_with_tansu_cat(&self, topic: &str, records_json: &str) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let file = dir.path().join("records.json");
        std::fs::write(&file, records_json).expect("records written");
        let broker = format!("tcp://127.0.0.1:{}", self.port);
        let output = Command::new(&self.tansu)
            .args(["cat", "produce", topic])
            .arg(&file)
            .args(["--broker", &broker])
            .output()
            .expect("tansu cat runs");
        assert!(
            output.status.success(),
            "tansu cat produce failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
