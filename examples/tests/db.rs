//! Database errors (issue 22): `sqlx::Error` against a real SQLite database
//! in memory, thiserror wrappers over it and over errors without
//! `ErrorType`, `#[error_type(with = f)]`, and a hand-written `ErrorType`
//! registered with `register_error_type!` found inside `anyhow::Error`. Read
//! back from the SDK's span, metric and log exporters.

use std::borrow::Cow;

use anyhow::Context as _;
use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, error_description, telemetry, Log};
use opentelemetry::trace::Status;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};

/// One connection: every connection to `sqlite::memory:` is its own
/// database.
async fn pool() -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)")
        .execute(&pool)
        .await
        .expect("create table");
    sqlx::query("INSERT INTO users (id, email) VALUES (1, 'ada@example.com')")
        .execute(&pool)
        .await
        .expect("first user");
    pool
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The `error.type` of span `name`, asserting that the metric point and the
/// exception log record of the same call carry the same value; returns the
/// log record.
fn recorded(name: &str) -> (String, Log) {
    let t = telemetry();
    let span = t.span(name);
    assert!(matches!(span.status, Status::Error { .. }), "{name}");
    let value = attr(&span, "error.type")
        .unwrap_or_else(|| panic!("span {name} has no error.type"))
        .to_string();
    let metric = format!("{name}.duration");
    let points = t.points(&metric, &[]);
    assert_eq!(points.len(), 1, "one point for {metric}: {points:?}");
    assert_eq!(
        points[0].get("error.type"),
        Some(value.as_str()),
        "{metric}"
    );
    let logs = t.logs_named(&format!("{name}.exception"));
    assert_eq!(logs.len(), 1, "one exception record for {name}");
    assert_eq!(logs[0].get("exception.type"), Some(value.as_str()));
    (value, logs.into_iter().next().expect("one"))
}

// ---------------------------------------------------------------- sqlx::Error

#[instrument_errors(name = "db.insert_user", kind = client, metric = "db.insert_user.duration")]
async fn insert_user(pool: &SqlitePool, id: i64, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email) VALUES (?, ?)")
        .bind(id)
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}

#[instrument_errors(name = "db.syntax", kind = client, metric = "db.syntax.duration")]
async fn syntax_error(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("SELEC email FROM users").execute(pool).await?;
    Ok(())
}

#[instrument_errors(name = "db.missing", kind = client, metric = "db.missing.duration")]
async fn missing_row(pool: &SqlitePool) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = 42")
        .fetch_one(pool)
        .await
}

fn is_row_not_found(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::RowNotFound)
}

#[instrument_errors(
    name = "db.missing_ok",
    kind = client,
    metric = "db.missing_ok.duration",
    ok_if = is_row_not_found,
    handled_attribute = "db.missing_ok.status",
)]
async fn missing_row_handled(pool: &SqlitePool) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = 42")
        .fetch_one(pool)
        .await
}

#[instrument_errors(name = "db.closed", kind = client, metric = "db.closed.duration")]
async fn on_closed_pool(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT 1").fetch_one(pool).await
}

#[test]
fn unique_violation_reports_the_database_code() {
    let _t = telemetry();
    let err = block_on(async {
        let pool = pool().await;
        insert_user(&pool, 2, "ada@example.com").await.unwrap_err()
    });
    // SQLITE_CONSTRAINT_UNIQUE, the extended result code.
    assert_eq!(
        err.as_database_error().and_then(|d| d.code()).as_deref(),
        Some("2067")
    );
    let (value, log) = recorded("db.insert_user");
    assert_eq!(value, "2067");
    let message = err.to_string();
    assert!(
        message.contains("UNIQUE constraint failed: users.email"),
        "{message}"
    );
    assert_eq!(log.get("exception.message"), Some(message.as_str()));
    assert_eq!(
        error_description(&telemetry().span("db.insert_user")).as_deref(),
        Some(message.as_str())
    );
    assert_eq!(
        instrument_errors::db::response_status_code(&err).as_deref(),
        Some("2067")
    );
}

#[test]
fn syntax_error_reports_the_database_code() {
    let _t = telemetry();
    let err = block_on(async {
        let pool = pool().await;
        syntax_error(&pool).await.unwrap_err()
    });
    assert!(err.to_string().contains("syntax error"), "{err}");
    // SQLITE_ERROR.
    assert_eq!(recorded("db.syntax").0, "1");
}

#[test]
fn missing_row_is_a_failure_unless_handled() {
    let t = telemetry();
    block_on(async {
        let pool = pool().await;
        assert!(matches!(
            missing_row(&pool).await,
            Err(sqlx::Error::RowNotFound)
        ));
        assert!(matches!(
            missing_row_handled(&pool).await,
            Err(sqlx::Error::RowNotFound)
        ));
    });
    let (value, log) = recorded("db.missing");
    assert_eq!(value, "row_not_found");
    assert_eq!(
        log.get("exception.message"),
        Some("no rows returned by a query that expected to return at least one row")
    );
    assert_eq!(
        instrument_errors::db::response_status_code(&sqlx::Error::RowNotFound),
        None
    );

    // Handled: status Unset, no error.type on span or point, a DEBUG record.
    let span = t.span("db.missing_ok");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(&span, "error.type"), None);
    assert_eq!(
        attr(&span, "db.missing_ok.status")
            .map(|v| v.to_string())
            .as_deref(),
        Some("row_not_found")
    );
    let points = t.points("db.missing_ok.duration", &[]);
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].get("error.type"), None);
    let logs = t.logs_named("db.missing_ok.exception");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].severity, Some(opentelemetry::logs::Severity::Debug));
    assert_eq!(logs[0].get("exception.type"), Some("row_not_found"));
}

#[test]
fn closed_pool() {
    let _t = telemetry();
    let err = block_on(async {
        let pool = pool().await;
        pool.close().await;
        on_closed_pool(&pool).await.unwrap_err()
    });
    assert!(matches!(err, sqlx::Error::PoolClosed), "{err:?}");
    assert_eq!(recorded("db.closed").0, "pool_closed");
}

// ---------------------------------------------------------------- wrappers

/// A foreign error without `ErrorType`, as a vendor crate would define it,
/// whose cause is an I/O error.
#[derive(Debug)]
struct VendorError(std::io::Error);

impl std::fmt::Display for VendorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the vendor client failed")
    }
}

impl std::error::Error for VendorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn duplicate_or_code(e: &sqlx::Error) -> Cow<'static, str> {
    match e.as_database_error() {
        Some(d) if d.is_unique_violation() => Cow::Borrowed("duplicate"),
        _ => e.error_type(),
    }
}

/// The repository's error: wraps sqlx's and foreign errors.
#[derive(Debug, thiserror::Error, ErrorType)]
enum RepoError {
    #[error(transparent)]
    #[error_type(transparent)]
    Db(#[from] sqlx::Error),
    #[error("bad id")]
    #[error_type(transparent)]
    BadId(#[from] std::num::ParseIntError),
    #[error("vendor")]
    #[error_type(transparent)]
    Vendor(#[source] VendorError),
    #[error("header")]
    #[error_type(transparent)]
    Header(#[from] axum::http::header::InvalidHeaderValue),
    #[error("write")]
    #[error_type(with = duplicate_or_code)]
    Write { source: sqlx::Error },
}

#[instrument_errors(name = "db.repo.insert_row", kind = client, metric = "db.repo.insert_row.duration")]
async fn insert_row(pool: &SqlitePool, id: i64, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email) VALUES (?, ?)")
        .bind(id)
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}

#[instrument_errors(name = "db.repo.insert", kind = client, metric = "db.repo.insert.duration")]
async fn repo_insert(pool: &SqlitePool, email: &str) -> Result<(), RepoError> {
    insert_row(pool, 3, email).await?;
    Ok(())
}

#[instrument_errors(name = "db.repo.write", kind = client, metric = "db.repo.write.duration")]
async fn repo_write(pool: &SqlitePool) -> Result<(), RepoError> {
    sqlx::query("INSERT INTO users (id, email) VALUES (5, 'ada@example.com')")
        .execute(pool)
        .await
        .map_err(|source| RepoError::Write { source })?;
    Ok(())
}

#[instrument_errors(name = "db.repo.bad_id", metric = "db.repo.bad_id.duration")]
fn repo_bad_id(id: &str) -> Result<i64, RepoError> {
    Ok(id.parse::<i64>()?)
}

#[instrument_errors(name = "db.repo.vendor", metric = "db.repo.vendor.duration")]
fn repo_vendor() -> Result<(), RepoError> {
    Err(RepoError::Vendor(VendorError(
        std::io::ErrorKind::ConnectionReset.into(),
    )))
}

#[instrument_errors(name = "db.repo.header", metric = "db.repo.header.duration")]
fn repo_header() -> Result<axum::http::HeaderValue, RepoError> {
    Ok(axum::http::HeaderValue::from_str("a\nb")?)
}

#[test]
fn wrappers_over_sqlx_and_foreign_errors() {
    let t = telemetry();
    block_on(async {
        let pool = pool().await;
        assert!(repo_insert(&pool, "ada@example.com").await.is_err());
        assert!(repo_write(&pool).await.is_err());
    });
    // transparent over sqlx::Error: the database's code, recorded once, tied
    // to the innermost span.
    let span = t.span("db.repo.insert");
    assert_eq!(
        attr(&span, "error.type").map(|v| v.to_string()).as_deref(),
        Some("2067")
    );
    let points = t.points("db.repo.insert.duration", &[]);
    assert_eq!(points[0].get("error.type"), Some("2067"));
    assert!(t.logs_named("db.repo.insert.exception").is_empty());
    assert_eq!(recorded("db.repo.insert_row").0, "2067");

    // with = f: the function's value.
    assert_eq!(recorded("db.repo.write").0, "duplicate");

    // transparent over errors without ErrorType: the type-erased rule.
    let _ = repo_bad_id("x");
    assert_eq!(recorded("db.repo.bad_id").0, "std::num::ParseIntError");
    let _ = repo_vendor();
    assert_eq!(
        recorded("db.repo.vendor").0,
        "std::io::ErrorKind::ConnectionReset"
    );
    let _ = repo_header();
    assert_eq!(
        recorded("db.repo.header").0,
        std::any::type_name::<axum::http::header::InvalidHeaderValue>()
    );
}

// ---------------------------------------------------------------- anyhow

/// A hand-written `ErrorType`, registered so that erased errors find it.
#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error("the row already exists")]
    Conflict(#[source] sqlx::Error),
    #[error(transparent)]
    Db(sqlx::Error),
}

impl ErrorType for BatchError {
    fn error_type(&self) -> Cow<'static, str> {
        match self {
            BatchError::Conflict(_) => Cow::Borrowed("conflict"),
            BatchError::Db(e) => e.error_type(),
        }
    }
}

instrument_errors::register_error_type!(BatchError);

impl From<sqlx::Error> for BatchError {
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(d) if d.is_unique_violation() => BatchError::Conflict(e),
            _ => BatchError::Db(e),
        }
    }
}

#[instrument_errors(name = "db.batch.step", kind = client, metric = "db.batch.step.duration")]
async fn batch_step(pool: &SqlitePool, id: i64) -> Result<(), BatchError> {
    sqlx::query("INSERT INTO users (id, email) VALUES (?, 'ada@example.com')")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

#[instrument_errors(name = "db.batch", metric = "db.batch.duration")]
async fn batch(pool: &SqlitePool) -> anyhow::Result<()> {
    batch_step(pool, 7).await.context("importing row 7")?;
    Ok(())
}

#[instrument_errors(name = "db.batch.raw", metric = "db.batch.raw.duration")]
async fn batch_raw(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::query("SELEC 1")
        .execute(pool)
        .await
        .context("importing")?;
    Ok(())
}

#[test]
fn registered_impl_found_inside_anyhow() {
    let t = telemetry();
    block_on(async {
        let pool = pool().await;
        assert!(batch(&pool).await.is_err());
        assert!(batch_raw(&pool).await.is_err());
    });
    let step = t.span("db.batch.step");
    assert_eq!(
        attr(&step, "error.type").map(|v| v.to_string()).as_deref(),
        Some("conflict")
    );
    let top = t.span("db.batch");
    assert_eq!(
        attr(&top, "error.type").map(|v| v.to_string()).as_deref(),
        Some("conflict")
    );
    let points = t.points("db.batch.duration", &[]);
    assert_eq!(points[0].get("error.type"), Some("conflict"));
    // sqlx::Error itself is registered by the crate.
    assert_eq!(recorded("db.batch.raw").0, "1");
}

// ------------------------------------------------------------- the `db` flag

/// The `db` flag: the database's code as `db.response.status_code` on span
/// and duration point (issue 22), beside `metric_attributes`.
#[instrument_errors(
    name = "db.flag.insert",
    kind = client, db,
    metric = "db.client.operation.duration",
    metric_attributes("db.system.name" = "sqlite", "db.operation.name" = "INSERT"),
)]
async fn flag_insert(pool: &SqlitePool, id: i64, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email) VALUES (?, ?)")
        .bind(id)
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}

/// A missing row: the database answered no code.
#[instrument_errors(
    name = "db.flag.select",
    kind = client, db,
    metric = "db.client.operation.duration",
    metric_attributes("db.system.name" = "sqlite", "db.operation.name" = "SELECT"),
)]
async fn flag_select(pool: &SqlitePool, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = ?")
        .bind(id)
        .fetch_one(pool)
        .await
}

#[test]
fn the_db_flag_sets_the_response_code() {
    let t = telemetry();
    block_on(async {
        let pool = pool().await;
        flag_insert(&pool, 2, "bob@example.com")
            .await
            .expect("inserted");
        let err = flag_insert(&pool, 3, "ada@example.com")
            .await
            .expect_err("duplicate");
        assert!(err.as_database_error().is_some());
        flag_select(&pool, 1).await.expect("found");
        flag_select(&pool, 42).await.expect_err("missing");
    });
    let inserts = t.spans_named("db.flag.insert");
    assert_eq!(inserts.len(), 2);
    let failed = inserts
        .iter()
        .find(|s| s.status != Status::Unset)
        .expect("the duplicate");
    assert_eq!(
        attr(failed, "db.response.status_code").map(|v| v.to_string()),
        Some("2067".to_owned())
    );
    assert_eq!(
        attr(failed, "error.type").map(|v| v.to_string()),
        Some("2067".to_owned())
    );
    assert_eq!(
        attr(failed, "db.system.name").map(|v| v.to_string()),
        Some("sqlite".to_owned())
    );
    let ok = inserts
        .iter()
        .find(|s| s.status == Status::Unset)
        .expect("ok");
    assert_eq!(attr(ok, "db.response.status_code"), None);
    // No code for a missing row: the database did not answer with one.
    let missing = t
        .spans_named("db.flag.select")
        .into_iter()
        .find(|s| s.status != Status::Unset)
        .expect("missing row");
    assert_eq!(attr(&missing, "db.response.status_code"), None);
    assert_eq!(
        attr(&missing, "error.type").map(|v| v.to_string()),
        Some("row_not_found".to_owned())
    );
    let points = t.points(
        "db.client.operation.duration",
        &[
            ("db.operation.name", "INSERT"),
            ("db.system.name", "sqlite"),
        ],
    );
    assert_eq!(points.len(), 2, "{points:?}");
    let failed = points
        .iter()
        .find(|p| p.get("error.type").is_some())
        .expect("failed point");
    assert_eq!(failed.get("error.type"), Some("2067"));
    assert_eq!(failed.get("db.response.status_code"), Some("2067"));
    let ok = points
        .iter()
        .find(|p| p.get("error.type").is_none())
        .expect("ok point");
    assert_eq!(ok.get("db.response.status_code"), None);
}
