//! `$event` as the parent hands it to a worker for a fold or a map: its fields one after
//! another, strings as they are and payloads as their JSON text, so the worker builds the
//! object itself and parses only the payloads. Parsing the whole `event_json` text cost the
//! worker about as much again as the payloads (nine keys and five strings to lex, every
//! key allocated, the object's table grown step by step).
//!
//! A packed event starts with [`MARK`], which no JSON text starts with; each field then is
//! `n` (null), or `s` (a string) or `j` (JSON text) followed by its length in bytes, `:`
//! and the bytes. The fields come in [`KEYS`] order, the order `event_json` writes.

use std::rc::Rc;

use bytes::Bytes;
use jaq_json::{Map, Num, Val};

use crate::model::{format_time, Event, Payload, StorePosition};

/// What a packed event starts with (ASCII record separator).
pub const MARK: u8 = 0x1e;

/// The keys of `$event`, in order.
const KEYS: [&str; 9] = [
    "type",
    "version",
    "timestamp",
    "aggregate_id",
    "aggregate_type",
    "position",
    "event_id",
    "data",
    "metadata",
];

/// `event` packed for the worker: the same `$event` as [`super::event_json`] writes.
pub fn packed_event(event: &Event) -> String {
    let data = match &event.data {
        Payload::Json(data) => data.as_str(),
        Payload::Undecodable { .. } => "null",
    };
    let metadata = event.metadata.as_str();
    let mut out = String::with_capacity(data.len() + metadata.len() + 96);
    let mut digits = itoa::Buffer::new();
    out.push(char::from(MARK));
    string(&mut out, Some(&event.event_type));
    json(&mut out, digits.format(event.version));
    let time = event.timestamp.as_ref().map(format_time);
    string(&mut out, time.as_deref());
    string(&mut out, Some(&event.aggregate_id));
    string(&mut out, event.aggregate_type.as_deref());
    match &event.position {
        StorePosition::Seq(n) => json(&mut out, digits.format(*n)),
        other => json(&mut out, &other.to_json().to_string()),
    }
    string(&mut out, event.event_id.as_deref());
    json(&mut out, data);
    json(&mut out, metadata);
    out
}

fn string(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => field(out, 's', text),
        None => out.push('n'),
    }
}

fn json(out: &mut String, text: &str) {
    field(out, 'j', text);
}

fn field(out: &mut String, tag: char, text: &str) {
    out.push(tag);
    out.push_str(itoa::Buffer::new().format(text.len()));
    out.push(':');
    out.push_str(text);
}

/// Builds `$event` from a packed event (the bytes after [`MARK`]).
pub fn unpack(mut bytes: &[u8]) -> Result<Val, String> {
    let mut map = Map::with_capacity_and_hasher(KEYS.len(), Default::default());
    for key in KEYS {
        let (value, rest) = next_field(bytes).ok_or_else(|| format!("no field {key}"))?;
        bytes = rest;
        map.insert(
            Val::TStr(Box::new(Bytes::from_static(key.as_bytes()))),
            value?,
        );
    }
    if !bytes.is_empty() {
        return Err("bytes after the last field".into());
    }
    Ok(Val::Obj(Rc::new(map)))
}

/// One field and what follows it; `None` when the bytes are not a field.
fn next_field(bytes: &[u8]) -> Option<(Result<Val, String>, &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    if tag == b'n' {
        return Some((Ok(Val::Null), rest));
    }
    let colon = rest.iter().take(21).position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(&rest[..colon]).ok()?.parse().ok()?;
    let rest = &rest[colon + 1..];
    let (text, rest) = (rest.get(..len)?, &rest[len..]);
    let value = match tag {
        b's' => Ok(Val::TStr(Box::new(Bytes::copy_from_slice(text)))),
        b'j' => number(text).map_or_else(|| super::convert::parse(text), Ok),
        _ => return None,
    };
    Some((value, rest))
}

/// A version or a position: small whole numbers, made without the parser.
fn number(text: &[u8]) -> Option<Val> {
    if text.len() > 18 || text.is_empty() {
        return None;
    }
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: isize = std::str::from_utf8(text).ok()?.parse().ok()?;
    Some(Val::Num(Num::Int(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jq::{convert, event_json};

    fn both(event: &Event) -> (String, String) {
        let packed = packed_event(event);
        assert_eq!(packed.as_bytes()[0], MARK);
        let unpacked = unpack(&packed.as_bytes()[1..]).unwrap();
        let parsed = convert::parse(event_json(event).as_bytes()).unwrap();
        (
            convert::to_json(&unpacked, 1 << 20).unwrap(),
            convert::to_json(&parsed, 1 << 20).unwrap(),
        )
    }

    #[test]
    fn a_packed_event_is_the_same_event_as_its_json() {
        let mut event = Event {
            aggregate_id: "acc-\"1\"\n\u{1e}é".into(),
            aggregate_type: Some("account".into()),
            position: StorePosition::Seq(-42),
            version: 3,
            event_id: Some("e:7".into()),
            event_type: "Deposited".into(),
            timestamp: crate::model::parse_time("2026-01-15T10:00:00.5Z"),
            data: Payload::from_json_text(r#"{"amount": 5.10, "big": 123456789012345678901234}"#),
            metadata: crate::model::JsonText::parse(r#"{"k":[1,"x"]}"#).unwrap(),
            ..Event::default()
        };
        let (unpacked, parsed) = both(&event);
        assert_eq!(unpacked, parsed);
        event.position = StorePosition::Record {
            timestamp_ms: 5,
            partition: 2,
            offset: 9,
        };
        event.version = u64::MAX;
        event.timestamp = None;
        event.aggregate_type = None;
        event.data = Payload::from_json_text("{oops");
        let (unpacked, parsed) = both(&event);
        assert_eq!(unpacked, parsed);
        assert!(parsed.contains(r#""data":null"#), "{parsed}");
    }

    #[test]
    fn anything_else_is_refused_not_misread() {
        for bad in [
            &b""[..],
            b"s3:ab",
            b"x1:a",
            b"s99999999999999999999999:a",
            b"s-1:a",
            b"nnnnnnnnnn",
        ] {
            assert!(unpack(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let whole = packed_event(&Event::default());
        assert!(unpack(&whole.as_bytes()[1..whole.len() - 1]).is_err());
    }
}
