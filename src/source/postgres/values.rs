//! PostgreSQL values in the binary form the server sends them, decoded as the shared row
//! readers want: text, JSON text, bytes, whole numbers, times. Statements cast every other
//! type to text first (`Dialect::select`), so only these arrive.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use postgres::types::{FromSql, Type};
use rusqlite::types::ValueRef;

use crate::model::{format_time, Payload};
use crate::source::sql::RowValues;
use crate::source::sqlite::decode;

/// One column as the server sent it.
pub struct Raw<'a> {
    ty: Type,
    bytes: Option<&'a [u8]>,
}

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw {
            ty: ty.clone(),
            bytes: Some(raw),
        })
    }

    fn from_sql_null(ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw {
            ty: ty.clone(),
            bytes: None,
        })
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The longest value rewind decodes, as for SQLite (`sqlite::limits::MAX_VALUE_BYTES`);
/// a longer payload is an undecodable event, not hundreds of MB of parsed JSON.
pub const MAX_VALUE_BYTES: usize = 64 << 20;

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl Raw<'_> {
    /// The value in SQLite's storage classes, which the shared decoders read: text (json,
    /// jsonb without its version byte), blobs (bytea), integers.
    fn value(&self) -> ValueRef<'_> {
        let Some(bytes) = self.bytes else {
            return ValueRef::Null;
        };
        match self.ty {
            Type::BYTEA => ValueRef::Blob(bytes),
            Type::JSONB => match bytes.split_first() {
                Some((1, text)) => ValueRef::Text(text),
                _ => ValueRef::Blob(bytes),
            },
            Type::INT8 | Type::INT4 | Type::INT2 => {
                self.integer().map_or(ValueRef::Null, ValueRef::Integer)
            }
            _ => ValueRef::Text(bytes),
        }
    }

    fn integer(&self) -> Option<i64> {
        let bytes = self.bytes?;
        match self.ty {
            Type::INT8 => Some(i64::from_be_bytes(bytes.try_into().ok()?)),
            Type::INT4 => Some(i32::from_be_bytes(bytes.try_into().ok()?).into()),
            Type::INT2 => Some(i16::from_be_bytes(bytes.try_into().ok()?).into()),
            _ => None,
        }
    }

    /// timestamptz and timestamp (read as UTC, as Message DB stores it).
    fn time(&self) -> Option<Result<DateTime<Utc>, String>> {
        if !matches!(self.ty, Type::TIMESTAMPTZ | Type::TIMESTAMP) {
            return None;
        }
        let micros = i64::from_be_bytes(self.bytes?.try_into().ok()?);
        let time = micros
            .checked_add(PG_EPOCH_MICROS)
            .and_then(|m| Utc.timestamp_micros(m).single());
        Some(time.ok_or_else(|| match micros {
            i64::MAX => "infinity".to_string(),
            i64::MIN => "-infinity".to_string(),
            _ => format!("{micros} µs after 2000-01-01"),
        }))
    }

    fn uuid(&self) -> Option<String> {
        let bytes: [u8; 16] = self.bytes?.try_into().ok()?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Some(format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        ))
    }
}

/// One row, its columns decoded once.
pub struct PgRow<'a>(pub Vec<Raw<'a>>);

impl<'a> PgRow<'a> {
    pub fn new(row: &'a postgres::Row) -> PgRow<'a> {
        PgRow(
            (0..row.len())
                .map(|i| {
                    row.try_get(i).unwrap_or(Raw {
                        ty: Type::TEXT,
                        bytes: None,
                    })
                })
                .collect(),
        )
    }

    fn raw(&self, i: usize) -> &Raw<'a> {
        &self.0[i]
    }
}

impl RowValues for PgRow<'_> {
    fn text(&self, i: usize) -> Option<String> {
        let raw = self.raw(i);
        if raw.ty == Type::UUID {
            return raw.uuid();
        }
        if let Some(time) = raw.time() {
            return Some(time.map_or_else(|text| text, |t| format_time(&t)));
        }
        if let (true, ValueRef::Blob(bytes)) = (raw.ty == Type::BYTEA, raw.value()) {
            // As the server writes bytea as text, so the id opens as listed.
            return Some(format!("\\x{}", decode::hex(bytes)));
        }
        decode::text(raw.value())
    }

    fn version(&self, i: usize) -> Option<u64> {
        decode::version(self.raw(i).value())
    }

    fn integer(&self, i: usize) -> Option<i64> {
        self.raw(i).integer()
    }

    fn timestamp(&self, i: usize) -> Result<Option<DateTime<Utc>>, String> {
        let raw = self.raw(i);
        match raw.time() {
            Some(time) => time.map(Some),
            None => decode::timestamp(raw.value()),
        }
    }

    fn time_offset(&self, i: usize) -> Option<FixedOffset> {
        // A timestamptz keeps no offset: the server hands over the instant.
        let raw = self.raw(i);
        match raw.time() {
            Some(_) => None,
            None => decode::time_offset(raw.value()),
        }
    }

    fn payload(&self, i: usize, column: &str) -> Payload {
        match self.too_long(i) {
            Some(error) => Payload::Undecodable {
                raw: String::new(),
                error,
            },
            None => decode::payload(self.raw(i).value(), column),
        }
    }

    fn too_long(&self, i: usize) -> Option<String> {
        let length = self.raw(i).bytes.map_or(0, <[u8]>::len);
        (length > MAX_VALUE_BYTES).then(|| {
            format!(
                "the stored value is {} MiB, over rewind's limit of {} MiB; not decoded",
                length >> 20,
                MAX_VALUE_BYTES >> 20
            )
        })
    }

    fn bytes(&self, i: usize) -> &[u8] {
        self.raw(i).bytes.unwrap_or_default()
    }

    fn is_null(&self, i: usize) -> bool {
        self.raw(i).bytes.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(ty: Type, bytes: &[u8]) -> Raw<'_> {
        Raw {
            ty,
            bytes: Some(bytes),
        }
    }

    #[test]
    fn binary_values_decode_to_what_the_shared_readers_expect() {
        let micros: i64 = 820_576_800_000_000; // 2026-01-01T10:00:00Z after 2000-01-01
        let (time, answer, infinity) = (
            micros.to_be_bytes(),
            42i64.to_be_bytes(),
            i64::MAX.to_be_bytes(),
        );
        let row = PgRow(vec![
            raw(Type::TIMESTAMPTZ, &time),
            raw(Type::JSONB, b"\x01{\"a\": 1}"),
            raw(Type::UUID, &[0x12; 16]),
            raw(Type::INT8, &answer),
            raw(Type::BYTEA, &[0xff, 0xfe]),
            raw(Type::TIMESTAMP, &infinity),
            Raw {
                ty: Type::JSONB,
                bytes: None,
            },
        ]);
        assert_eq!(
            row.timestamp(0)
                .unwrap()
                .map(|t| format_time(&t))
                .as_deref(),
            Some("2026-01-01T10:00:00Z")
        );
        assert_eq!(
            row.payload(1, "d"),
            Payload::from_value(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            row.text(2).as_deref(),
            Some("12121212-1212-1212-1212-121212121212")
        );
        assert_eq!((row.integer(3), row.version(3)), (Some(42), Some(42)));
        assert!(row.payload(4, "d").error().unwrap().contains("UTF-8"));
        assert_eq!(row.timestamp(5), Err("infinity".to_string()));
        assert!(row.is_null(6));
    }
}
