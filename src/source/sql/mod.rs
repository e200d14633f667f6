//! What SQLite and PostgreSQL stores share: the table mapping, the statements built from it
//! (one implementation, rendered per [`Dialect`]), the check of a mapping against the
//! tables that exist, and turning rows into events.

mod check;
mod layout;
mod mapping;
mod preset;
mod row;

pub use check::{check_mapping, listed, Catalog};
pub use layout::{Codec, ColumnKinds, EventExprs, Layout, Queries, SnapshotExprs, SnapshotQueries};
pub use mapping::{quote_identifier, EventColumns, SnapshotColumns, SqlMapping, MAPPING_KEYS};
pub use preset::{Preset, PRESET_NAMES};
pub use row::{
    event_from_row, snapshot_entry_from_row, snapshot_from_row, summary_from_row, RowValues,
};

/// The aggregate function a SQLite connection registers (`sqlite::time_range`) for an
/// aggregate's earliest and latest instant: `rewind_time_range(time, payload)`.
pub const TIME_RANGE_FUNCTION: &str = "rewind_time_range";

/// Which SQL the statements are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// How a column's values are read and compared, by its type in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Read as stored: any SQLite value, and the PostgreSQL types rewind decodes itself
    /// (json, jsonb, bytea, bigint, timestamps).
    Native,
    /// Text (PostgreSQL text, varchar, char, name): compared with a text parameter as is.
    Text,
    /// A PostgreSQL smallint or integer, read as bigint.
    SmallInt,
    /// A PostgreSQL bigint id: compared with a text parameter cast to bigint.
    BigInt,
    /// A PostgreSQL uuid: read natively, compared with a text parameter cast to uuid.
    Uuid,
    /// Any other PostgreSQL type, read (and compared) as its text.
    Other,
}

/// How many stored values an aggregate id is bound as (see [`Dialect::id_matches`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdForms {
    /// One value (or none): an equality, which the id index serves in version order.
    One,
    /// Up to four (an id written as INTEGER by one writer and TEXT by another): an IN list,
    /// whose rows are sorted after the index finds them.
    Several,
}

/// A column or an expression over the store's tables, with how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub sql: String,
    pub kind: Kind,
}

impl Column {
    pub fn new(sql: impl Into<String>, kind: Kind) -> Column {
        Column {
            sql: sql.into(),
            kind,
        }
    }

    /// A trusted expression read as it comes.
    pub fn expr(sql: impl Into<String>) -> Column {
        Column::new(sql, Kind::Native)
    }

    /// The field is absent from the store.
    pub fn null() -> Column {
        Column::expr("NULL")
    }
}

impl Dialect {
    /// The `n`th statement parameter (1-based).
    pub fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// The expression that selects a column in a form the row readers decode.
    pub fn select(self, column: &Column) -> String {
        match column.kind {
            Kind::SmallInt => format!("({})::bigint", column.sql),
            Kind::Other => format!("({})::text", column.sql),
            _ => column.sql.clone(),
        }
    }

    /// `column = parameter n`, with the parameter given as text.
    pub fn matches(self, column: &Column, n: usize) -> String {
        let (sql, param) = (&column.sql, self.param(n));
        match (self, column.kind) {
            (Dialect::Sqlite, _) | (_, Kind::Text) => format!("{sql} = {param}"),
            (_, Kind::Uuid) => format!("{sql} = {param}::text::uuid"),
            (_, Kind::SmallInt | Kind::BigInt) => format!("{sql} = {param}::text::bigint"),
            _ => format!("({sql})::text = {param}"),
        }
    }

    /// `column` equal to a stored value an aggregate id as listed names.
    ///
    /// An id is its text as listed: SQLite binds, as ?1 to ?4, the values the store holds
    /// under that text (`sqlite::decode::StoredIds`: the text itself, the INTEGER `42`, the
    /// REAL `1.5`, the BLOB `x'c0ffee'`; NULL for the rest), and [`IdForms`] says whether
    /// more than one is bound. The column is never cast, so the id index serves the read.
    /// PostgreSQL binds the text as $1, cast to the column's type (its ids are typed, so
    /// `forms` changes nothing there). `unindexed` keeps SQLite off the id index where it
    /// would walk an aggregate's whole history instead of the new positions (`+id`);
    /// PostgreSQL's planner chooses by cost and needs no hint.
    pub fn id_matches(self, column: &Column, forms: IdForms, unindexed: bool) -> String {
        match self {
            Dialect::Sqlite => {
                let (prefix, id) = (if unindexed { "+" } else { "" }, &column.sql);
                match forms {
                    IdForms::One => format!("{prefix}{id} = COALESCE(?1, ?2, ?3, ?4)"),
                    IdForms::Several => format!("{prefix}{id} IN (?1, ?2, ?3, ?4)"),
                }
            }
            Dialect::Postgres => self.matches(column, 1),
        }
    }

    /// The first parameter after the aggregate id's (see [`Dialect::id_matches`]).
    pub fn first_after_id(self) -> usize {
        match self {
            Dialect::Sqlite => 5,
            Dialect::Postgres => 2,
        }
    }

    /// Parameter `n`, a whole number compared with columns of any integer type.
    pub fn integer_param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => self.param(n),
            Dialect::Postgres => format!("{}::bigint", self.param(n)),
        }
    }

    /// `position` is after parameter `n`, or one of the positions still pending in
    /// parameter `n + 1` (PostgreSQL: see [`crate::source::Resume`]).
    pub fn after(self, position: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("{position} > {}", self.param(n)),
            Dialect::Postgres => format!(
                "({position} > {} OR {position} = ANY({}))",
                self.param(n),
                self.param(n + 1)
            ),
        }
    }

    /// What an unmapped position column is, for messages.
    pub fn default_position(self) -> &'static str {
        match self {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "global_position",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_comparisons_follow_the_dialect() {
        let id = Column::new("\"stream_id\"", Kind::Uuid);
        assert_eq!(Dialect::Sqlite.matches(&id, 1), "\"stream_id\" = ?1");
        assert_eq!(
            Dialect::Postgres.matches(&id, 1),
            "\"stream_id\" = $1::text::uuid"
        );
        assert_eq!(
            Dialect::Sqlite.id_matches(&id, IdForms::One, false),
            "\"stream_id\" = COALESCE(?1, ?2, ?3, ?4)"
        );
        assert_eq!(
            Dialect::Sqlite.id_matches(&id, IdForms::Several, true),
            "+\"stream_id\" IN (?1, ?2, ?3, ?4)"
        );
        for forms in [IdForms::One, IdForms::Several] {
            assert_eq!(
                Dialect::Postgres.id_matches(&id, forms, true),
                "\"stream_id\" = $1::text::uuid"
            );
        }
        assert_eq!(Dialect::Sqlite.after("p", 2), "p > ?2");
        assert_eq!(Dialect::Postgres.after("p", 2), "(p > $2 OR p = ANY($3))");
        let flag = Column::new("\"archived\"", Kind::Other);
        assert_eq!(Dialect::Postgres.select(&flag), "(\"archived\")::text");
        assert_eq!(
            Dialect::Postgres.matches(&flag, 1),
            "(\"archived\")::text = $1"
        );
    }
}
