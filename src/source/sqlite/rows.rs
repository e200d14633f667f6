//! SQLite rows as the shared row readers see them.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::types::ValueRef;

use super::decode;
use crate::model::{EventIssue, JsonText, Payload};
use crate::source::sql::RowValues;

pub struct SqliteRow<'r, 's>(pub &'r rusqlite::Row<'s>);

impl SqliteRow<'_, '_> {
    fn value(&self, i: usize) -> ValueRef<'_> {
        self.0.get_ref_unwrap(i)
    }
}

impl RowValues for SqliteRow<'_, '_> {
    fn text(&self, i: usize) -> Option<String> {
        decode::text(self.value(i))
    }

    fn version(&self, i: usize) -> Option<u64> {
        decode::version(self.value(i))
    }

    fn integer(&self, i: usize) -> Option<i64> {
        match self.value(i) {
            ValueRef::Integer(n) => Some(n),
            _ => None,
        }
    }

    fn timestamp(&self, i: usize) -> Result<Option<DateTime<Utc>>, String> {
        decode::timestamp(self.value(i))
    }

    fn time_offset(&self, i: usize) -> Option<FixedOffset> {
        decode::time_offset(self.value(i))
    }

    fn payload(&self, i: usize, column: &str) -> Payload {
        decode::payload(self.value(i), column)
    }

    fn bytes(&self, i: usize) -> &[u8] {
        self.value(i).as_bytes().unwrap_or_default()
    }

    fn is_null(&self, i: usize) -> bool {
        matches!(self.value(i), ValueRef::Null)
    }

    fn metadata(&self, i: usize, issues: &mut Vec<EventIssue>) -> JsonText {
        decode::metadata(self.value(i), issues)
    }
}
