//! A Kafka record as it was read, before any mapping: what the cache keeps.

use serde_json::Value;

/// Records whose aggregate id cannot be found (no key, no such header or JSON field) are
/// grouped under this id, so they are visible instead of silently dropped.
pub const NO_KEY: &str = "<no key>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    /// `None` is a tombstone.
    pub value: Option<Vec<u8>>,
    /// Milliseconds since the epoch, as the producer or broker stamped the record.
    pub timestamp_ms: Option<i64>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl RawRecord {
    /// The key as text: UTF-8 as is, anything else as lowercase hex.
    pub fn key_text(&self) -> Option<String> {
        self.key.as_deref().map(bytes_text)
    }

    /// The first header with this name, as text.
    pub fn header_text(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, value)| value.as_deref())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

pub fn bytes_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Headers as the cache stores them: a JSON array of `[name, value]`, the value a string
/// when it is UTF-8, an array of byte numbers when it is not, or null. Lossless.
pub fn encode_headers(headers: &[(String, Option<Vec<u8>>)]) -> String {
    let items: Vec<Value> = headers
        .iter()
        .map(|(name, value)| {
            let value = match value.as_deref() {
                None => Value::Null,
                Some(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) => Value::from(text),
                    Err(_) => Value::from(bytes.to_vec()),
                },
            };
            Value::Array(vec![Value::from(name.as_str()), value])
        })
        .collect();
    Value::Array(items).to_string()
}

pub fn decode_headers(text: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let Ok(Value::Array(items)) = crate::model::parse_bounded(text.as_bytes()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let name = item.get(0)?.as_str()?.to_string();
            let value = match item.get(1)? {
                Value::String(text) => Some(text.as_bytes().to_vec()),
                Value::Array(bytes) => Some(
                    bytes
                        .iter()
                        .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                        .collect(),
                ),
                _ => None,
            };
            Some((name, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_including_binary_and_null_values() {
        let headers = vec![
            ("event_type".to_string(), Some(b"Opened".to_vec())),
            ("bin".to_string(), Some(vec![0xff, 0x00])),
            ("none".to_string(), None),
        ];
        assert_eq!(decode_headers(&encode_headers(&headers)), headers);
    }

    #[test]
    fn binary_keys_are_shown_as_hex() {
        assert_eq!(bytes_text(b"acc-1"), "acc-1");
        assert_eq!(bytes_text(&[0xff, 0x00]), "ff00");
    }
}
