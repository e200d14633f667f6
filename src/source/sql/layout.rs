//! The SQL rewind runs against a store, built once from a validated mapping (every name
//! quoted) or from a preset's constants, and rendered in the store's dialect. Nothing else
//! reaches SQL.

use std::collections::HashMap;

use super::mapping::{quote_identifier, SqlMapping};
use super::{Column, Dialect, IdForms, Kind};
use crate::source::BadOption;

/// SQL expressions, one per field, over the events table.
#[derive(Debug, Clone)]
pub struct EventExprs {
    /// What events are read from: the events table, maybe joined with a streams table.
    pub table: String,
    /// The events table alone, where the positions are.
    pub positions_table: String,
    pub aggregate_id: Column,
    pub aggregate_type: Column,
    pub version: Column,
    pub event_type: Column,
    pub timestamp: Column,
    pub data: Column,
    pub metadata: Column,
    pub event_id: Column,
    /// What orders the whole store: `rowid` or a mapped column.
    pub position: Column,
    /// An extra condition rows must meet (presets only, e.g. "only events, not commands").
    pub filter: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SnapshotExprs {
    pub table: String,
    pub aggregate_id: Column,
    pub version: Column,
    pub state: Column,
    pub created_at: Column,
}

/// How stored payloads are turned into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Columns hold what they say: JSON data, a type name, a timestamp.
    Plain,
    /// Python eventsourcing: type from the topic, timestamp and data inside transcoded JSON.
    Eventsourcing,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub dialect: Dialect,
    pub events: EventExprs,
    pub snapshots: Option<SnapshotExprs>,
    pub codec: Codec,
    /// A preset's own aggregate list (a library's streams table), selecting what
    /// `list_events` selects.
    pub list_override: Option<String>,
}

/// The statements a source prepares. Every event read selects the same columns, in the
/// order `sql::row` reads them.
pub struct Queries {
    /// Per aggregate: id, type, count, then on PostgreSQL the MIN and MAX of the stored
    /// time and on SQLite the earliest and latest instant as `sqlite::time_range` packs
    /// them.
    pub list_events: String,
    /// On PostgreSQL where the stored time does not order as instants (text, whose MIN is
    /// not the earliest when formats or offsets mix, or a time inside a compressed
    /// payload): every row's id, time and payload (when the time is NULL), for the source
    /// to parse as an event read would, in place of the list's MIN and MAX.
    pub list_times: Option<String>,
    pub count_events: String,
    pub list_snapshots: Option<String>,
    /// SQLite: a stored aggregate id equal to parameter 1, if the events table holds one
    /// (`LIMIT 1`): which of the values an id may stand for the store holds, and as what.
    pub find_id: Option<String>,
    /// SQLite: the same over the snapshots table.
    pub find_snapshot_id: Option<String>,
    /// One aggregate's events (the id bound as [`Dialect::id_matches`] says, held in one
    /// form: [`IdForms::One`]), in version order.
    pub read_events: String,
    /// One aggregate's events after the one of version parameter `n` at position `n + 1`
    /// (`n` = [`Dialect::first_after_id`]), in its order: the next page of its history.
    pub read_events_page: String,
    /// SQLite: `read_events` and `read_events_page` for an id the store holds in several
    /// forms ([`IdForms::Several`]).
    pub read_events_several: Option<String>,
    pub read_events_page_several: Option<String>,
    /// Where events have no position (a PostgreSQL table or view without one): one
    /// aggregate's events of version parameter 2 or later (or none), and how many come
    /// before that version. An event's position is then its place in the history, and a
    /// page starts at its version instead of re-reading every row before it.
    pub read_events_from_version: String,
    pub count_events_before_version: String,
    /// One aggregate's events stored after position parameter `n` (PostgreSQL: or at one
    /// of the pending positions of parameter `n + 1`), for follow mode: a range scan of
    /// the positions, so a poll reads only what arrived.
    pub read_events_after: String,
    /// The store's events at or after position parameter 1, in store order.
    pub read_store: String,
    /// The store's events after position parameter 1 (PostgreSQL: or pending in 2).
    pub read_store_after: String,
    /// The highest position: where the next read resumes.
    pub last_position: String,
    /// Where the store has snapshots, how to read one aggregate's.
    pub snapshots: Option<SnapshotQueries>,
}

/// One aggregate's snapshots, the id held in one form (as `read_events`); SQLite: the
/// `_several` statements for an id held in several.
#[derive(Debug, Clone)]
pub struct SnapshotQueries {
    /// Version and time of each, in version order, without the states.
    pub entries: String,
    pub entries_several: Option<String>,
    /// The whole snapshot at the offset in that order given after the id's parameters.
    pub one: String,
    pub one_several: Option<String>,
}

/// The type of each column of the mapped tables, by lowercase (table, column), as the
/// store's catalog names them; SQLite has none to give.
pub type ColumnKinds = HashMap<(String, String), Kind>;

impl Layout {
    /// Quotes every name of a user mapping; `with_snapshots` once the table is known to
    /// exist. `qualified` names a mapped table in SQL (quoted, with its schema).
    pub fn from_mapping(
        mapping: &SqlMapping,
        with_snapshots: bool,
        dialect: Dialect,
        qualified: &dyn Fn(&str) -> Result<String, BadOption>,
        kinds: &ColumnKinds,
    ) -> Result<Layout, BadOption> {
        let col = |table: &str, name: &str| -> Result<Column, BadOption> {
            let kind = kinds
                .get(&(table.to_lowercase(), name.to_lowercase()))
                .copied()
                .unwrap_or(Kind::Native);
            Ok(Column::new(quote_identifier(name)?, kind))
        };
        let e = &mapping.events;
        let opt = |column: &Option<String>| -> Result<Column, BadOption> {
            column
                .as_deref()
                .map(|name| col(&e.table, name))
                .unwrap_or_else(|| Ok(Column::null()))
        };
        let table = qualified(&e.table)?;
        let events = EventExprs {
            positions_table: table.clone(),
            table,
            aggregate_id: col(&e.table, &e.aggregate_id)?,
            aggregate_type: opt(&e.aggregate_type)?,
            version: col(&e.table, &e.version)?,
            event_type: col(&e.table, &e.event_type)?,
            timestamp: opt(&e.timestamp)?,
            data: col(&e.table, &e.event_data)?,
            metadata: opt(&e.metadata)?,
            event_id: opt(&e.event_id)?,
            position: match &e.position {
                Some(column) => col(&e.table, column)?,
                None => Column::expr(dialect.default_position()),
            },
            filter: None,
        };
        let s = &mapping.snapshots;
        let snapshots = match (&s.table, with_snapshots) {
            (Some(table), true) => {
                let scol = |name: &str| col(table, name);
                Some(SnapshotExprs {
                    table: qualified(table)?,
                    aggregate_id: scol(&s.aggregate_id)?,
                    version: scol(&s.version)?,
                    state: scol(&s.state)?,
                    created_at: match &s.created_at {
                        Some(name) => scol(name)?,
                        None => Column::null(),
                    },
                })
            }
            _ => None,
        };
        Ok(Layout {
            dialect,
            events,
            snapshots,
            codec: Codec::Plain,
            list_override: None,
        })
    }

    /// The columns every event read selects, in the order `sql::row` reads them.
    fn event_columns(&self) -> String {
        let e = &self.events;
        [
            &e.aggregate_type,
            &e.version,
            &e.event_type,
            &e.timestamp,
            &e.data,
            &e.metadata,
            &e.position,
            &e.event_id,
            &e.aggregate_id,
        ]
        .map(|column| self.dialect.select(column))
        .join(", ")
    }

    /// One aggregate's events meeting `conditions`, in version order; keyset paging adds a
    /// `(version, position) > (…)` condition and a limit here.
    fn aggregate_events(&self, conditions: &[String]) -> String {
        let e = &self.events;
        let order = match e.position == Column::null() {
            true => self.order_without_position(),
            false => format!("{}, {}", e.version.sql, e.position.sql),
        };
        format!(
            "SELECT {} FROM {} WHERE {}{} ORDER BY {order}",
            self.event_columns(),
            e.table,
            conditions.join(" AND "),
            self.filter(),
        )
    }

    /// Without a position, version order alone leaves events of one version in whatever
    /// order the server meets them, which can differ between two reads (an UPDATE, VACUUM
    /// FULL or a synchronised scan moves rows), so a page read back could show another
    /// event of that version. The event's own columns as text break the tie: events equal
    /// in all of them are the same to show. (PostgreSQL refuses `ORDER BY …, NULL`, and a
    /// version index still serves the order, ties sorted incrementally.)
    fn order_without_position(&self) -> String {
        let e = &self.events;
        let mut order = vec![e.version.sql.clone()];
        for column in [
            &e.event_id,
            &e.timestamp,
            &e.event_type,
            &e.data,
            &e.metadata,
        ] {
            if *column != Column::null() {
                order.push(format!("CAST({} AS TEXT)", column.sql));
            }
        }
        order.join(", ")
    }

    /// The store's events meeting `condition`, in store order.
    fn store_events(&self, condition: &str) -> String {
        let e = &self.events;
        format!(
            "SELECT {} FROM {} WHERE {} IS NOT NULL AND {condition}{} ORDER BY {}",
            self.event_columns(),
            e.table,
            e.aggregate_id.sql,
            self.filter(),
            e.position.sql
        )
    }

    fn filter(&self) -> String {
        self.events
            .filter
            .as_ref()
            .map_or(String::new(), |f| format!(" AND ({f})"))
    }

    /// Whether the server's MIN and MAX of the time column are the earliest and latest
    /// instant: a time type or a number, not text, and never a payload's time. A list the
    /// preset writes itself reads time columns.
    fn list_times_in_sql(&self) -> bool {
        self.list_override.is_some()
            || (self.codec == Codec::Plain
                && !matches!(self.events.timestamp.kind, Kind::Text | Kind::Other))
    }

    pub fn queries(&self) -> Queries {
        let (d, e) = (self.dialect, &self.events);
        let filter = self.filter();
        let (id, position) = (&e.aggregate_id, &e.position.sql);
        // SQLite's text MIN and MAX of a time column are not the earliest and latest
        // instant when formats or offsets mix, and the time may sit inside a compressed
        // payload: there rewind's own aggregate function parses each stored time as an
        // event read would (`sqlite::time_range`), in the same pass. PostgreSQL's time
        // columns order as instants; where its time is text or in the payload, the source
        // reads the times in a pass of their own (`list_times`).
        let payload = match self.codec {
            Codec::Eventsourcing => {
                format!(
                    "CASE WHEN {} IS NULL THEN {} END",
                    e.timestamp.sql, e.data.sql
                )
            }
            Codec::Plain => "NULL".into(),
        };
        let times = match d {
            Dialect::Sqlite => format!(
                "{}({}, {payload})",
                super::TIME_RANGE_FUNCTION,
                d.select(&e.timestamp)
            ),
            Dialect::Postgres if self.list_times_in_sql() => {
                format!("MIN({ts}), MAX({ts})", ts = d.select(&e.timestamp))
            }
            Dialect::Postgres => "NULL, NULL".into(),
        };
        let list_times = match d == Dialect::Postgres && !self.list_times_in_sql() {
            true => Some(format!(
                "SELECT {id_text}, {ts}, {payload} FROM {table} WHERE {id} IS NOT NULL{filter}",
                id_text = d.select(id),
                id = id.sql,
                ts = d.select(&e.timestamp),
                table = e.table,
            )),
            false => None,
        };
        let list_events = self.list_override.clone().unwrap_or_else(|| {
            format!(
                "SELECT {id_text}, MIN({ty}), COUNT(*), {times} \
                 FROM {table} WHERE {id} IS NOT NULL{filter} GROUP BY {id} ORDER BY {id}",
                id_text = d.select(id),
                id = id.sql,
                ty = d.select(&e.aggregate_type),
                table = e.table,
            )
        });
        // The reads in version order take the equality the id index serves in that order
        // (SQLite picks the one form the store holds, or those reads below); the others
        // take every form an id is held in (see `Dialect::id_matches`).
        let one = d.id_matches(id, IdForms::One, false);
        let matches = d.id_matches(id, IdForms::Several, false);
        let n = d.first_after_id();
        let page_after = format!(
            "({}, {position}) > ({}, {})",
            e.version.sql,
            d.integer_param(n),
            d.integer_param(n + 1)
        );
        let read_events = self.aggregate_events(std::slice::from_ref(&one));
        let read_events_page = self.aggregate_events(&[one, page_after.clone()]);
        let sqlite = d == Dialect::Sqlite;
        let read_events_several =
            sqlite.then(|| self.aggregate_events(std::slice::from_ref(&matches)));
        let read_events_page_several =
            sqlite.then(|| self.aggregate_events(&[matches.clone(), page_after]));
        let find = |table: &str, id: &Column| {
            sqlite.then(|| {
                format!(
                    "SELECT {id} FROM {table} WHERE {id} = ?1 LIMIT 1",
                    id = id.sql
                )
            })
        };
        let find_id = find(&e.table, id);
        let find_snapshot_id = self
            .snapshots
            .as_ref()
            .and_then(|s| find(&s.table, &s.aggregate_id));
        let version = &e.version.sql;
        let read_events_from_version = self.aggregate_events(&[
            matches.clone(),
            format!("({version} >= {} OR {version} IS NULL)", d.integer_param(n)),
        ]);
        let count_events_before_version = format!(
            "SELECT COUNT(*) FROM {} WHERE {matches} AND {version} < {}{filter}",
            e.table,
            d.integer_param(n)
        );
        let read_events_after = self.aggregate_events(&[
            d.id_matches(id, IdForms::Several, true),
            d.after(position, n),
        ]);
        let read_store = self.store_events(&format!("{position} >= {}", d.param(1)));
        let read_store_after = self.store_events(&d.after(position, 1));
        let last_position = format!("SELECT MAX({position}) FROM {}", e.positions_table);
        let count_events = format!("SELECT COUNT(*) FROM {} WHERE {matches}{filter}", e.table,);
        let (list_snapshots, snapshots) = match &self.snapshots {
            None => (None, None),
            Some(s) => {
                let (table, order) = (&s.table, &s.version.sql);
                let entries = |forms| {
                    format!(
                        "SELECT {version}, {created} FROM {table} WHERE {matches} ORDER BY {order}",
                        version = d.select(&s.version),
                        created = d.select(&s.created_at),
                        matches = d.id_matches(&s.aggregate_id, forms, false),
                    )
                };
                // The same rows in the same order, skipping to one: what `entries` counts
                // as an entry's key (its place) is this statement's offset.
                let one = |forms| {
                    format!(
                        "SELECT {version}, {state}, {created} FROM {table} WHERE {matches} ORDER BY {order} LIMIT 1 OFFSET {offset}",
                        version = d.select(&s.version),
                        state = d.select(&s.state),
                        created = d.select(&s.created_at),
                        matches = d.id_matches(&s.aggregate_id, forms, false),
                        offset = d.integer_param(d.first_after_id()),
                    )
                };
                let several =
                    |read: &dyn Fn(IdForms) -> String| sqlite.then(|| read(IdForms::Several));
                (
                    Some(format!(
                        "SELECT {id_text}, COUNT(*) FROM {table} WHERE {id} IS NOT NULL GROUP BY {id}",
                        id_text = d.select(&s.aggregate_id),
                        id = s.aggregate_id.sql,
                    )),
                    Some(SnapshotQueries {
                        entries: entries(IdForms::One),
                        entries_several: several(&entries),
                        one: one(IdForms::One),
                        one_several: several(&one),
                    }),
                )
            }
        };
        Queries {
            list_events,
            list_times,
            count_events,
            list_snapshots,
            find_id,
            find_snapshot_id,
            read_events,
            read_events_page,
            read_events_several,
            read_events_page_several,
            read_events_from_version,
            count_events_before_version,
            read_events_after,
            read_store,
            read_store_after,
            last_position,
            snapshots,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mapping_renders_in_both_dialects() {
        let mut kinds = ColumnKinds::new();
        kinds.insert(("events".into(), "aggregate_id".into()), Kind::Uuid);
        let mut mapping = SqlMapping::default();
        mapping.events.position = Some("global_position".into());
        let sqlite =
            Layout::from_mapping(&mapping, false, Dialect::Sqlite, &quote_identifier, &kinds)
                .unwrap()
                .queries();
        let in_app = |table: &str| Ok(format!("\"app\".{}", quote_identifier(table)?));
        let pg = Layout::from_mapping(&mapping, false, Dialect::Postgres, &in_app, &kinds)
            .unwrap()
            .queries();
        assert!(
            sqlite
                .read_events_after
                .contains("AND \"global_position\" > ?5"),
            "{}",
            sqlite.read_events_after
        );
        assert!(
            pg.read_events_after.contains(
                "\"aggregate_id\" = $1::text::uuid AND (\"global_position\" > $2 OR \"global_position\" = ANY($3))"
            ),
            "{}",
            pg.read_events_after
        );
        assert!(
            sqlite
                .read_events_after
                .contains("WHERE +\"aggregate_id\" IN (?1, ?2, ?3, ?4) AND"),
            "{}",
            sqlite.read_events_after
        );
        assert!(sqlite
            .read_events_page
            .contains("AND (\"version\", \"global_position\") > (?5, ?6)"));
        assert!(
            pg.read_events_page
                .contains("AND (\"version\", \"global_position\") > ($2::bigint, $3::bigint)"),
            "{}",
            pg.read_events_page
        );
        // SQLite reads an id held in one form with an equality, which the id index serves
        // in version order, and in several with an IN list; PostgreSQL's ids are typed.
        assert!(
            sqlite
                .read_events
                .contains("WHERE \"aggregate_id\" = COALESCE(?1, ?2, ?3, ?4) ORDER BY"),
            "{}",
            sqlite.read_events
        );
        let several = sqlite.read_events_page_several.as_deref().unwrap();
        assert!(
            several.contains("WHERE \"aggregate_id\" IN (?1, ?2, ?3, ?4) AND (\"version\""),
            "{several}"
        );
        assert_eq!(
            sqlite.find_id.as_deref(),
            Some("SELECT \"aggregate_id\" FROM \"events\" WHERE \"aggregate_id\" = ?1 LIMIT 1")
        );
        assert!(pg.find_id.is_none() && pg.read_events_several.is_none());
        assert!(pg.read_events.contains("FROM \"app\".\"events\""));
        assert!(pg
            .read_events
            .ends_with("ORDER BY \"version\", \"global_position\""));
    }
}
