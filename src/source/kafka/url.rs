//! `kafka://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT]/TOPIC`: which cluster and topic to read.

use crate::source::SourceError;

/// Kafka's default port, used when a broker is named without one.
const DEFAULT_PORT: u16 = 9092;

#[derive(Clone, PartialEq, Eq)]
pub struct KafkaUrl {
    pub brokers: Vec<String>,
    pub topic: String,
    /// SASL credentials given in the URL; never shown (see `Display`).
    pub username: Option<String>,
    pub password: Option<String>,
}

impl KafkaUrl {
    /// Parses a `kafka://` source name. Errors never repeat the credentials it holds.
    pub fn parse(spec: &str) -> Result<KafkaUrl, SourceError> {
        let fail = |reason: &str| {
            SourceError::open(format!(
                "{} is not a Kafka source: {reason} (write it like kafka://localhost:9092/orders)",
                redact(spec)
            ))
        };
        let rest = spec
            .strip_prefix("kafka://")
            .ok_or_else(|| fail("it must start with kafka://"))?;
        let (authority, topic) = rest
            .split_once('/')
            .ok_or_else(|| fail("no topic after the brokers"))?;
        let topic = topic.trim_end_matches('/');
        if topic.is_empty() {
            return Err(fail("no topic after the brokers"));
        }
        if !is_valid_topic(topic) {
            return Err(fail(
                "a topic name is 1-249 letters, digits, '.', '_' or '-'",
            ));
        }
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(info) => match info.split_once(':') {
                Some((user, pass)) => (Some(percent_decode(user)), Some(percent_decode(pass))),
                None => (Some(percent_decode(info)), None),
            },
        };
        let mut brokers = Vec::new();
        for host in hosts.split(',').map(str::trim) {
            if host.is_empty() {
                return Err(fail("an empty broker address"));
            }
            brokers.push(with_port(host).map_err(|reason| fail(&reason))?);
        }
        Ok(KafkaUrl {
            brokers,
            topic: topic.to_string(),
            username,
            password,
        })
    }

    /// The `bootstrap.servers` value.
    pub fn bootstrap_servers(&self) -> String {
        self.brokers.join(",")
    }
}

/// The URL without credentials: what rewind shows on screen and in errors.
impl std::fmt::Display for KafkaUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kafka://{}/{}", self.brokers.join(","), self.topic)
    }
}

impl std::fmt::Debug for KafkaUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KafkaUrl({self})")
    }
}

/// A source name with any `user:password@` removed, for messages about a name that did not parse.
pub fn redact(spec: &str) -> String {
    let Some(rest) = spec.strip_prefix("kafka://") else {
        return spec.to_string();
    };
    // Up to the last `@` anywhere: a topic never holds one, and a password that does not
    // parse (a `/` in it, say) must not be shown by the message saying so.
    match rest.rfind('@') {
        Some(at) => format!("kafka://{}", &rest[at + 1..]),
        None => spec.to_string(),
    }
}

fn with_port(host: &str) -> Result<String, String> {
    // `[::1]:9092` keeps its brackets; a bare host gets the default port.
    let (name, port) = if let Some(stripped) = host.strip_prefix('[') {
        let (addr, after) = stripped
            .split_once(']')
            .ok_or_else(|| format!("{host:?} has an unclosed ["))?;
        (format!("[{addr}]"), after.strip_prefix(':'))
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name.to_string(), Some(port)),
            None => (host.to_string(), None),
        }
    };
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{host:?} is not a broker address"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{port:?} is not a port number"))?,
    };
    Ok(format!("{name}:{port}"))
}

fn is_valid_topic(topic: &str) -> bool {
    topic.len() <= 249
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `%40` → `@`, so passwords with reserved characters can be written in a URL.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_get_default_ports_and_the_topic_is_kept() {
        let url = KafkaUrl::parse("kafka://a:9093,b/orders").unwrap();
        assert_eq!(url.brokers, vec!["a:9093", "b:9092"]);
        assert_eq!(url.topic, "orders");
        assert_eq!(url.to_string(), "kafka://a:9093,b:9092/orders");
        let v6 = KafkaUrl::parse("kafka://[::1]:19092/t").unwrap();
        assert_eq!(v6.bootstrap_servers(), "[::1]:19092");
    }

    #[test]
    fn credentials_are_parsed_but_never_displayed() {
        let url = KafkaUrl::parse("kafka://bob:s3cr%40t@host:9092/orders").unwrap();
        assert_eq!(url.username.as_deref(), Some("bob"));
        assert_eq!(url.password.as_deref(), Some("s3cr@t"));
        assert!(!url.to_string().contains("s3cr"));
        assert!(!format!("{url:?}").contains("s3cr"));
        assert!(!url.to_string().contains("bob"));
    }

    #[test]
    fn bad_urls_are_rejected_without_echoing_passwords() {
        for bad in [
            "kafka://host:9092",
            "kafka://host:9092/",
            "kafka://host:notaport/t",
            "kafka://,host/t",
            "kafka://host/bad topic",
        ] {
            assert!(KafkaUrl::parse(bad).is_err(), "{bad}");
        }
        let err = KafkaUrl::parse("kafka://u:hunter22@host:x/t")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter22"), "{err}");
        assert_eq!(redact("kafka://u:p@h:1/t"), "kafka://h:1/t");
        assert_eq!(redact("kafka://u:p/q@h:1/t"), "kafka://h:1/t");
    }
}
