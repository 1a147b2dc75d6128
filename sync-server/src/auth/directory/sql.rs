//! The directory's one door to its database, so its logic exists once: the same
//! statements run on the embedded SQLite (the default) or on PostgreSQL (`--database`).
//! Statements are written with `$1, $2, …` placeholders (SQLite reads them as `?1, ?2,
//! …`) in the SQL both understand; values and rows are the few types the directory
//! stores.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::BytesMut;
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::auth::AuthError;
use crate::storage::postgres::Database;

/// A value bound to a statement or read from a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Value::Null, Value::from)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}

/// Builds a `Vec<Value>` from a list of expressions.
macro_rules! values {
    ($($v:expr),* $(,)?) => { vec![$($crate::auth::directory::sql::Value::from($v)),*] };
}
pub(crate) use values;

/// One row read.
#[derive(Clone, Debug, PartialEq)]
pub struct Row(pub Vec<Value>);

fn wrong(i: usize, want: &str) -> AuthError {
    AuthError::Db(format!("column {i} is not {want}"))
}

impl Row {
    pub fn int(&self, i: usize) -> Result<i64, AuthError> {
        match self.0.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            _ => Err(wrong(i, "an integer")),
        }
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, AuthError> {
        match self.0.get(i) {
            Some(Value::Null) => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    /// SQLite stores booleans as integers.
    pub fn bool(&self, i: usize) -> Result<bool, AuthError> {
        match self.0.get(i) {
            Some(Value::Bool(v)) => Ok(*v),
            Some(Value::Int(v)) => Ok(*v != 0),
            _ => Err(wrong(i, "a boolean")),
        }
    }
    pub fn text(&self, i: usize) -> Result<String, AuthError> {
        match self.0.get(i) {
            Some(Value::Text(v)) => Ok(v.clone()),
            _ => Err(wrong(i, "text")),
        }
    }
    pub fn blob(&self, i: usize) -> Result<Vec<u8>, AuthError> {
        match self.0.get(i) {
            Some(Value::Blob(v)) => Ok(v.clone()),
            _ => Err(wrong(i, "bytes")),
        }
    }
}

/// The `NOTIFY` channel of directory changes.
const CHANNEL: &str = "paktum_directory";

/// Where the directory lives.
pub enum Db {
    Sqlite(Mutex<Connection>),
    Postgres(Arc<Database>),
}

/// A transaction in progress (see [`Db::transaction`]).
pub enum Tx<'a> {
    Sqlite(&'a rusqlite::Transaction<'a>),
    Postgres {
        database: &'a Database,
        /// Boxed: a pooled connection is large, a SQLite transaction a reference.
        client: Option<Box<deadpool_postgres::Object>>,
    },
}

fn pg(e: impl std::error::Error) -> AuthError {
    AuthError::Db(crate::storage::postgres::with_causes(&e))
}

fn gone(e: String) -> AuthError {
    AuthError::Db(e)
}

impl Db {
    fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
        conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, AuthError> {
        match self {
            Db::Sqlite(conn) => sqlite_query(&Self::lock(conn), sql, &params),
            Db::Postgres(database) => {
                let (pool, sql) = (database.pool(), sql.to_string());
                database
                    .wait(async move {
                        let client = pool.get().await.map_err(pg)?;
                        pg_query(&client, &sql, &params).await
                    })
                    .map_err(gone)?
            }
        }
    }

    /// Tells every relay on the database that the directory changed (a revocation,
    /// an erasure, a team), so they look at once rather than at their next poll.
    /// Nothing to do on SQLite (one relay, which polls); failures only delay them.
    pub fn notify(&self) {
        if let Db::Postgres(_) = self
            && let Err(e) = self.execute("SELECT pg_notify($1, '')", vec![Value::from(CHANNEL)])
        {
            tracing::warn!(error = %e, "could not tell the other relays of a directory change");
        }
    }

    /// Notifications of directory changes by any relay or the admin CLI (PostgreSQL).
    pub fn changes(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        match self {
            Db::Sqlite(_) => None,
            Db::Postgres(database) => Some(database.listen(CHANNEL)),
        }
    }

    pub fn query_opt(&self, sql: &str, params: Vec<Value>) -> Result<Option<Row>, AuthError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, AuthError> {
        match self {
            Db::Sqlite(conn) => sqlite_execute(&Self::lock(conn), sql, &params),
            Db::Postgres(database) => {
                let (pool, sql) = (database.pool(), sql.to_string());
                database
                    .wait(async move {
                        let client = pool.get().await.map_err(pg)?;
                        pg_execute(&client, &sql, &params).await
                    })
                    .map_err(gone)?
            }
        }
    }

    /// Runs `work` in one transaction: committed if it returns `Ok`, rolled back
    /// otherwise. `work` must not call `self` (SQLite's connection is held).
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T, AuthError>,
    ) -> Result<T, AuthError> {
        match self {
            Db::Sqlite(conn) => {
                let mut conn = Self::lock(conn);
                // Immediate: a deferred transaction that reads, then writes after
                // another connection wrote, fails at once with "database is locked".
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let result = work(&mut Tx::Sqlite(&tx))?;
                tx.commit()?;
                Ok(result)
            }
            Db::Postgres(database) => {
                let pool = database.pool();
                let client = database
                    .wait(async move {
                        let client = pool.get().await.map_err(pg)?;
                        client.batch_execute("BEGIN").await.map_err(pg)?;
                        Ok::<_, AuthError>(client)
                    })
                    .map_err(gone)??;
                let mut tx = Tx::Postgres {
                    database,
                    client: Some(Box::new(client)),
                };
                let result = work(&mut tx);
                let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
                let Tx::Postgres {
                    client: Some(client),
                    ..
                } = tx
                else {
                    return Err(AuthError::Db("a transaction lost its connection".into()));
                };
                database
                    .wait(async move { client.batch_execute(end).await.map_err(pg) })
                    .map_err(gone)??;
                result
            }
        }
    }
}

impl Tx<'_> {
    pub fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, AuthError> {
        match self {
            Tx::Sqlite(tx) => sqlite_query(tx, sql, &params),
            Tx::Postgres { database, client } => {
                let held = client
                    .take()
                    .ok_or_else(|| AuthError::Db("no connection".into()))?;
                let sql = sql.to_string();
                let (held, result) = database
                    .wait(async move {
                        let result = pg_query(&held, &sql, &params).await;
                        (held, result)
                    })
                    .map_err(gone)?;
                *client = Some(held);
                result
            }
        }
    }

    pub fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, AuthError> {
        match self {
            Tx::Sqlite(tx) => sqlite_execute(tx, sql, &params),
            Tx::Postgres { database, client } => {
                let held = client
                    .take()
                    .ok_or_else(|| AuthError::Db("no connection".into()))?;
                let sql = sql.to_string();
                let (held, result) = database
                    .wait(async move {
                        let result = pg_execute(&held, &sql, &params).await;
                        (held, result)
                    })
                    .map_err(gone)?;
                *client = Some(held);
                result
            }
        }
    }
}

/// `$1` is PostgreSQL's placeholder; SQLite's numbered one is `?1`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn sqlite_query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>, AuthError> {
    let mut stmt = conn.prepare_cached(&sqlite_sql(sql))?;
    let columns = stmt.column_count();
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        (0..columns)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                })
            })
            .collect::<rusqlite::Result<Vec<Value>>>()
            .map(Row)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn sqlite_execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64, AuthError> {
    let mut stmt = conn.prepare_cached(&sqlite_sql(sql))?;
    Ok(stmt.execute(rusqlite::params_from_iter(params))? as u64)
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

async fn pg_query(
    client: &deadpool_postgres::Object,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, AuthError> {
    let stmt = client.prepare_cached(sql).await.map_err(pg)?;
    let rows = client.query(&stmt, &pg_params(params)).await.map_err(pg)?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| pg_value(row, i))
                .collect::<Result<Vec<_>, _>>()
                .map(Row)
        })
        .collect()
}

async fn pg_execute(
    client: &deadpool_postgres::Object,
    sql: &str,
    params: &[Value],
) -> Result<u64, AuthError> {
    let stmt = client.prepare_cached(sql).await.map_err(pg)?;
    client.execute(&stmt, &pg_params(params)).await.map_err(pg)
}

fn pg_value(row: &tokio_postgres::Row, i: usize) -> Result<Value, AuthError> {
    let ty = row.columns()[i].type_().clone();
    let value = if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int))
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)
            .map(|v| v.map(|v| Value::Int(v.into())))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)
            .map(|v| v.map(Value::Bool))
    } else if ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i)
            .map(|v| v.map(Value::Blob))
    } else {
        row.try_get::<_, Option<String>>(i)
            .map(|v| v.map(Value::Text))
    };
    Ok(value.map_err(pg)?.unwrap_or(Value::Null))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Bool(v) => ValueRef::Integer(i64::from(*v)),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            // SQLite's booleans are integers (a copy from SQLite binds them).
            Value::Int(v) if *ty == Type::BOOL => (*v != 0).to_sql(ty, out),
            Value::Int(v) => v.to_sql(ty, out),
            Value::Bool(v) => v.to_sql(ty, out),
            Value::Text(v) => v.to_sql(ty, out),
            Value::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
