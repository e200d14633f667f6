//! What the server's catalog says about the store: the tables of its schema, and each
//! mapped table's columns with their types. Read from pg_catalog, which any role may read.

use std::cell::RefCell;
use std::collections::HashMap;

use super::connection::Connection;

use crate::source::sql::{quote_identifier, Catalog, ColumnKinds, Dialect, Kind};
use crate::source::{BadOption, SourceError};

/// A table found in the catalog, with the schema it lives in.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub schema: String,
    pub name: String,
    /// Names and types (the base type of a domain), in table order.
    pub columns: Vec<(String, String)>,
}

pub struct PgCatalog<'c> {
    connection: &'c RefCell<Connection>,
    shown: String,
    /// The source's reading of a failure: a lost connection, a timeout, a privilege said as
    /// for any other read.
    error: &'c dyn Fn(postgres::Error) -> SourceError,
    /// Where unqualified table names are looked for.
    pub schema: String,
    tables: Vec<String>,
    found: RefCell<HashMap<String, Option<TableInfo>>>,
}

const TABLES: &str = "SELECT c.relname FROM pg_catalog.pg_class c \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition \
     ORDER BY c.relname";

const COLUMNS: &str = "SELECT a.attname, COALESCE(b.typname, t.typname)::text \
     FROM pg_catalog.pg_attribute a \
     JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
     LEFT JOIN pg_catalog.pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype \
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
       AND a.attnum > 0 AND NOT a.attisdropped \
     ORDER BY a.attnum";

const PRIMARY_KEY: &str = "SELECT a.attname::text FROM pg_catalog.pg_index i \
     JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) \
     WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2 \
     ORDER BY a.attnum";

impl<'c> PgCatalog<'c> {
    /// The catalog of `schema`, or of the server's current schema.
    pub fn read(
        connection: &'c RefCell<Connection>,
        shown: &str,
        schema: Option<&str>,
        error: &'c dyn Fn(postgres::Error) -> SourceError,
    ) -> Result<PgCatalog<'c>, SourceError> {
        let schema = match schema {
            Some(schema) => schema.to_string(),
            None => {
                let rows = connection
                    .borrow_mut()
                    .query("SELECT COALESCE(current_schema(), 'public')::text", &[])
                    .map_err(error)?;
                rows.first()
                    .map_or_else(|| "public".to_string(), |row| row.get(0))
            }
        };
        let tables = Self::names_in(connection, &schema, error)?;
        Ok(PgCatalog {
            connection,
            shown: shown.to_string(),
            error,
            schema,
            tables,
            found: RefCell::new(HashMap::new()),
        })
    }

    pub fn names_in(
        connection: &RefCell<Connection>,
        schema: &str,
        error: &dyn Fn(postgres::Error) -> SourceError,
    ) -> Result<Vec<String>, SourceError> {
        let rows = connection
            .borrow_mut()
            .query(TABLES, &[&schema])
            .map_err(error)?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn lookup(&self, schema: &str, name: &str) -> Result<Option<TableInfo>, SourceError> {
        let rows = self
            .connection
            .borrow_mut()
            .query(COLUMNS, &[&schema, &name])
            .map_err(self.error)?;
        Ok((!rows.is_empty()).then(|| TableInfo {
            schema: schema.to_string(),
            name: name.to_string(),
            columns: rows.iter().map(|row| (row.get(0), row.get(1))).collect(),
        }))
    }

    /// A mapped table: `name` in the catalog's schema, else `schema.name` spelled out.
    pub fn table(&self, mapped: &str) -> Result<Option<TableInfo>, SourceError> {
        if let Some(known) = self.found.borrow().get(mapped) {
            return Ok(known.clone());
        }
        let mut info = self.lookup(&self.schema, mapped)?;
        if info.is_none() {
            if let Some((schema, name)) = mapped.split_once('.') {
                info = self.lookup(schema, name)?;
            }
        }
        self.found
            .borrow_mut()
            .insert(mapped.to_string(), info.clone());
        Ok(info)
    }

    /// The table as SQL, schema-qualified and quoted.
    pub fn qualified(&self, mapped: &str) -> Result<String, BadOption> {
        let (schema, name) = match self.found.borrow().get(mapped) {
            Some(Some(info)) => (info.schema.clone(), info.name.clone()),
            _ => (self.schema.clone(), mapped.to_string()),
        };
        Ok(format!(
            "{}.{}",
            quote_identifier(&schema)?,
            quote_identifier(&name)?
        ))
    }

    /// The kind of every column of the tables looked up so far, for the layout.
    pub fn kinds(&self) -> ColumnKinds {
        let mut kinds = ColumnKinds::new();
        for (mapped, info) in self.found.borrow().iter() {
            for (column, ty) in info.iter().flat_map(|i| &i.columns) {
                kinds.insert((mapped.to_lowercase(), column.to_lowercase()), kind_of(ty));
            }
        }
        kinds
    }

    /// The columns of a table's primary key (none for a view or a table without one).
    pub fn primary_key(&self, info: &TableInfo) -> Result<Vec<String>, SourceError> {
        let rows = self
            .connection
            .borrow_mut()
            .query(PRIMARY_KEY, &[&info.schema, &info.name])
            .map_err(self.error)?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Whether `column` of the table holds more than one value (NULL counting as one):
    /// stops at the first row that differs from the first, else reads the column through.
    pub fn holds_several(&self, info: &TableInfo, column: &str) -> Result<bool, SourceError> {
        let table = format!(
            "{}.{}",
            quote_identifier(&info.schema)?,
            quote_identifier(&info.name)?
        );
        let column = quote_identifier(column)?;
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} IS DISTINCT FROM \
             (SELECT {column} FROM {table} LIMIT 1))"
        );
        let row = self
            .connection
            .borrow_mut()
            .query(sql.as_str(), &[])
            .map_err(self.error)?;
        Ok(row.first().is_some_and(|row| row.get(0)))
    }

    pub fn has_schema_table(&self, schema: &str, name: &str) -> Result<bool, SourceError> {
        Ok(self.lookup(schema, name)?.is_some())
    }
}

/// How rewind reads a column of this type.
pub fn kind_of(type_name: &str) -> Kind {
    match type_name {
        "text" | "varchar" | "bpchar" | "name" | "citext" => Kind::Text,
        "json" | "jsonb" | "bytea" | "timestamp" | "timestamptz" => Kind::Native,
        "int8" => Kind::BigInt,
        "int2" | "int4" => Kind::SmallInt,
        "uuid" => Kind::Uuid,
        _ => Kind::Other,
    }
}

impl TableInfo {
    pub fn column_type(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(column))
            .map(|(_, ty)| ty.as_str())
    }

    pub fn has(&self, column: &str) -> bool {
        self.column_type(column).is_some()
    }
}

impl Catalog for PgCatalog<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn store_name(&self) -> String {
        format!("{} (schema {})", self.shown, self.schema)
    }

    fn tables(&self) -> &[String] {
        &self.tables
    }

    fn columns(&self, table: &str) -> Result<Option<Vec<String>>, SourceError> {
        Ok(self
            .table(table)?
            .map(|info| info.columns.into_iter().map(|(name, _)| name).collect()))
    }
}
