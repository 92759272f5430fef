//! Statements, their parameters and the rows they return, in shared-lib's
//! own types: a service never names the driver.

use std::sync::Arc;

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Row as _, Sqlite, TypeInfo as _, ValueRef as _};

use super::error::DbError;
use crate::money::Cents;

/// A statement and its parameters: SQL with `$1, $2, ...` placeholders (the
/// same text runs on SQLite and PostgreSQL; SQLite numbers them as it meets
/// them, so use them in order of appearance). The SQL is a `&'static str`:
/// values go in as parameters, never into the text.
///
/// ```
/// use shared_lib::db::query;
/// let q = query("SELECT id, body FROM notes WHERE id = $1").bind(7_i64);
/// # let _ = q;
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until a Database or Transaction runs it"]
pub struct Query {
    sql: &'static str,
    params: Vec<Value>,
}

/// A statement with no parameters yet; add them with [`Query::bind`].
pub fn query(sql: &'static str) -> Query {
    Query {
        sql,
        params: Vec::new(),
    }
}

impl Query {
    /// Adds the next parameter (`$1`, then `$2`, ...).
    pub fn bind(mut self, value: impl Into<Value>) -> Query {
        self.params.push(value.into());
        self
    }

    /// The SQL text.
    pub fn sql(&self) -> &'static str {
        self.sql
    }

    pub(super) fn params(&self) -> &[Value] {
        &self.params
    }

    pub(super) fn postgres(self) -> sqlx::query::Query<'static, Postgres, PgArguments> {
        let mut q = sqlx::query(self.sql);
        for value in self.params {
            q = match value {
                Value::Int(v) => q.bind(v),
                Value::Text(v) => q.bind(v),
                Value::Bytes(v) => q.bind(v),
                Value::Bool(v) => q.bind(v),
            };
        }
        q
    }
}

/// A parameter of a [`Query`]: the plain types both backends store the
/// same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `INTEGER` / `BIGINT`.
    Int(i64),
    /// `TEXT`.
    Text(String),
    /// `BLOB` / `BYTEA`.
    Bytes(Vec<u8>),
    /// `BOOLEAN` (an integer 0 or 1 on SQLite).
    Bool(bool),
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
int_values!(i64, i32, i16, i8, u32, u16, u8);

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<Cents> for Value {
    /// Always fits: an amount is at most [`crate::money::MAX_CENTS`].
    fn from(v: Cents) -> Value {
        Value::Int(i64::try_from(v.get()).unwrap_or(i64::MAX))
    }
}

/// One row of a result. Read its columns by name with [`Row::get`]; each
/// value is decoded once, straight from the driver's row into the type asked.
#[derive(Debug)]
pub struct Row(Inner);

#[derive(Debug)]
enum Inner {
    Sqlite(SqliteRow),
    Postgres(PgRow),
    /// Read by SQLite's own API ([`super::readers`]): the values copied
    /// out of the statement, the column names shared by the result's rows.
    Owned {
        columns: Arc<[String]>,
        values: Vec<Owned>,
    },
}

/// A value copied out of a SQLite row.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Owned {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<SqliteRow> for Row {
    fn from(row: SqliteRow) -> Row {
        Row(Inner::Sqlite(row))
    }
}

impl From<PgRow> for Row {
    fn from(row: PgRow) -> Row {
        Row(Inner::Postgres(row))
    }
}

impl Row {
    pub(super) fn owned(columns: Arc<[String]>, values: Vec<Owned>) -> Row {
        Row(Inner::Owned { columns, values })
    }

    /// The value of `column` as a `T`; [`DbError::Other`] naming the
    /// column when there is no such column or its value does not fit `T`
    /// (`NULL` fits only an `Option`).
    pub fn get<T: Column>(&self, column: &str) -> Result<T, DbError> {
        let raw = match &self.0 {
            Inner::Sqlite(row) => row
                .try_get_raw(column)
                .map(|v| {
                    if v.is_null() {
                        RawInner::Null
                    } else {
                        RawInner::Sqlite(row, column)
                    }
                })
                .map_err(|e| e.to_string()),
            Inner::Postgres(row) => row
                .try_get_raw(column)
                .map(|v| {
                    if v.is_null() {
                        RawInner::Null
                    } else {
                        RawInner::Postgres(row, column, pg_int(v.type_info().name()))
                    }
                })
                .map_err(|e| e.to_string()),
            Inner::Owned { columns, values } => columns
                .iter()
                .position(|c| c == column)
                .and_then(|i| values.get(i))
                .map(|v| match v {
                    Owned::Null => RawInner::Null,
                    v => RawInner::Owned(v),
                })
                .ok_or_else(|| "no such column".to_string()),
        }
        .map_err(|e| DbError::decode(column, e))?;
        T::decode(&Raw(raw)).map_err(|why| DbError::decode(column, why))
    }
}

/// Which integer width a PostgreSQL column has (`COUNT(*)` is `BIGINT`,
/// a literal `1` an `INTEGER`).
#[derive(Debug, Clone, Copy)]
enum PgInt {
    I16,
    I32,
    I64,
    NotInt,
}

fn pg_int(type_name: &str) -> PgInt {
    match type_name {
        "INT2" => PgInt::I16,
        "INT4" => PgInt::I32,
        "INT8" => PgInt::I64,
        _ => PgInt::NotInt,
    }
}

/// A column's value, not decoded yet: what [`Column::decode`] reads.
#[derive(Debug)]
pub struct Raw<'r>(RawInner<'r>);

#[derive(Debug)]
enum RawInner<'r> {
    Null,
    Sqlite(&'r SqliteRow, &'r str),
    Postgres(&'r PgRow, &'r str, PgInt),
    Owned(&'r Owned),
}

impl Raw<'_> {
    /// Whether the value is `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self.0, RawInner::Null)
    }

    fn int(&self) -> Result<i64, String> {
        use RawInner as Raw;
        match self.0 {
            Raw::Null => Err(NULL.into()),
            Raw::Sqlite(row, c) => row.try_get::<i64, _>(c).map_err(|e| e.to_string()),
            Raw::Postgres(row, c, PgInt::I64) => {
                row.try_get::<i64, _>(c).map_err(|e| e.to_string())
            }
            Raw::Postgres(row, c, PgInt::I32) => row
                .try_get::<i32, _>(c)
                .map(i64::from)
                .map_err(|e| e.to_string()),
            Raw::Postgres(row, c, PgInt::I16) => row
                .try_get::<i16, _>(c)
                .map(i64::from)
                .map_err(|e| e.to_string()),
            Raw::Postgres(_, _, PgInt::NotInt) => Err("not an integer column".into()),
            Raw::Owned(Owned::Int(v)) => Ok(*v),
            Raw::Owned(other) => Err(format!("{other:?} is not an integer")),
        }
    }

    fn text(&self) -> Result<String, String> {
        match self.0 {
            RawInner::Owned(Owned::Text(v)) => Ok(v.clone()),
            RawInner::Owned(other) => Err(format!("{other:?} is not text")),
            _ => self.get(),
        }
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        match self.0 {
            RawInner::Owned(Owned::Bytes(v)) => Ok(v.clone()),
            RawInner::Owned(other) => Err(format!("{other:?} is not bytes")),
            _ => self.get(),
        }
    }

    fn boolean(&self) -> Result<bool, String> {
        match self.0 {
            RawInner::Owned(Owned::Int(v)) => Ok(*v != 0),
            RawInner::Owned(other) => Err(format!("{other:?} is not a boolean")),
            _ => self.get(),
        }
    }

    fn get<T>(&self) -> Result<T, String>
    where
        T: for<'a> sqlx::Decode<'a, Sqlite>
            + sqlx::Type<Sqlite>
            + for<'a> sqlx::Decode<'a, Postgres>
            + sqlx::Type<Postgres>,
    {
        use RawInner as Raw;
        match self.0 {
            Raw::Null => Err(NULL.into()),
            Raw::Sqlite(row, c) => row.try_get::<T, _>(c).map_err(|e| e.to_string()),
            Raw::Postgres(row, c, _) => row.try_get::<T, _>(c).map_err(|e| e.to_string()),
            Raw::Owned(v) => Err(format!("{v:?}: not this type")),
        }
    }
}

const NULL: &str = "NULL where a value was expected";

/// A type a column's value can be read as ([`Row::get`]): the integers
/// (range-checked), `bool`, `String`, `Vec<u8>`, [`Cents`], and `Option`
/// of any of them for a column that may be `NULL`. A service implements it
/// for a type of its own by decoding one of these and converting.
pub trait Column: Sized {
    /// The value, or why it does not fit (the column's name is added).
    fn decode(raw: &Raw<'_>) -> Result<Self, String>;
}

macro_rules! int_columns {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn decode(raw: &Raw<'_>) -> Result<$t, String> {
                let v = raw.int()?;
                <$t>::try_from(v).map_err(|_| format!("{v} is out of range for {}", stringify!($t)))
            }
        }
    )*};
}
int_columns!(i64, i32, i16, u64, u32, u16, u8);

impl Column for String {
    fn decode(raw: &Raw<'_>) -> Result<String, String> {
        raw.text()
    }
}

impl Column for Vec<u8> {
    fn decode(raw: &Raw<'_>) -> Result<Vec<u8>, String> {
        raw.bytes()
    }
}

impl Column for bool {
    fn decode(raw: &Raw<'_>) -> Result<bool, String> {
        raw.boolean()
    }
}

impl Column for Cents {
    fn decode(raw: &Raw<'_>) -> Result<Cents, String> {
        let v = u64::decode(raw)?;
        Cents::new(v).map_err(|e| format!("{v} is not an amount of cents: {e}"))
    }
}

impl<T: Column> Column for Option<T> {
    fn decode(raw: &Raw<'_>) -> Result<Option<T>, String> {
        if raw.is_null() {
            Ok(None)
        } else {
            T::decode(raw).map(Some)
        }
    }
}
