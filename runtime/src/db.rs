//! Database errors as the database conventions classify them (feature
//! `sqlx`, for [`sqlx`] 0.8).
//!
//! [`ErrorType`] is implemented for [`sqlx::Error`]:
//!
//! | the error | `error.type` |
//! |---|---|
//! | `Error::Database` with a code: the database answered | the code: the SQLSTATE for PostgreSQL and MySQL (`"23505"`), the extended result code for SQLite (`"2067"` for a unique violation, `"1"` for a syntax error) |
//! | `Error::Io` | `std::io::ErrorKind::<Kind>` (`std::io::ErrorKind::ConnectionRefused`) |
//! | any other variant (and `Error::Database` without a code) | the variant's name in `snake_case`: `row_not_found`, `pool_timed_out`, `pool_closed`, `column_decode`, `column_not_found`, `configuration`, `tls`, `protocol`, `database`, ... |
//!
//! The span's status description and `exception.message` are the error's
//! `Display` (`error returned from database: UNIQUE constraint failed:
//! users.email`). A `sqlx::Error` inside a type-erased error
//! (`anyhow::Error`, `Box<dyn Error>`) or behind
//! `#[error_type(transparent)]` reports the same value.
//!
//! Database codes are computed values: at most
//! [`ERROR_TYPE_LIMIT`](crate::ERROR_TYPE_LIMIT) distinct ones per operation
//! are reported, the others as [`OTHER`](crate::OTHER).
//!
//! The conventions also ask for the code as `db.response.status_code` on the
//! span and the duration point of a database client call whenever the
//! database answered with one: [`response_status_code`] gives it.
//!
//! ```
//! use instrument_errors::{instrument_errors, ErrorType};
//!
//! #[instrument_errors(name = "SELECT users", kind = client)]
//! async fn find_user(id: i64) -> Result<String, sqlx::Error> {
//!     // sqlx::query_scalar(..).fetch_one(&pool).await, which finds no row:
//!     Err(sqlx::Error::RowNotFound) // error.type "row_not_found"
//! }
//!
//! assert_eq!(sqlx::Error::RowNotFound.error_type(), "row_not_found");
//! assert_eq!(instrument_errors::db::response_status_code(&sqlx::Error::PoolClosed), None);
//! # drop(find_user(1));
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

use sqlx::Error;

use crate::error_type::{io_kind, Identifier};
use crate::ErrorType;

/// `error.type` of a sqlx error: the database's code when it answered with
/// one, the I/O error's kind, else the variant's name in `snake_case` (see
/// the [module](self)).
impl ErrorType for Error {
    fn error_type(&self) -> Cow<'static, str> {
        if let Some(code) = response_status_code(self) {
            return code;
        }
        Cow::Borrowed(match self {
            Error::Io(io) => return io_kind(io.kind()),
            Error::Configuration(_) => "configuration",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::Database(_) => "database",
            Error::Tls(_) => "tls",
            Error::Protocol(_) => "protocol",
            Error::RowNotFound => "row_not_found",
            Error::TypeNotFound { .. } => "type_not_found",
            Error::ColumnIndexOutOfBounds { .. } => "column_index_out_of_bounds",
            Error::ColumnNotFound(_) => "column_not_found",
            Error::ColumnDecode { .. } => "column_decode",
            Error::Encode(_) => "encode",
            Error::Decode(_) => "decode",
            Error::AnyDriverError(_) => "any_driver_error",
            Error::PoolTimedOut => "pool_timed_out",
            Error::PoolClosed => "pool_closed",
            Error::WorkerCrashed => "worker_crashed",
            Error::InvalidSavePointStatement => "invalid_save_point_statement",
            Error::BeginFailed => "begin_failed",
            // `Migrate` (sqlx's feature `migrate`) and variants added later:
            // their name, from `Debug`.
            other => return variant_name(other),
        })
    }
}

/// The variant's name in `snake_case`, from its `Debug` output.
fn variant_name(error: &Error) -> Cow<'static, str> {
    let mut name = Identifier::new();
    let _ = write!(name, "{error:?}");
    match name.get() {
        Some("Migrate") => Cow::Borrowed("migrate"),
        Some(name) => Cow::Owned(snake_case(name)),
        None => Cow::Borrowed(crate::OTHER),
    }
}

/// `PoolTimedOut` -> `pool_timed_out`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The database's response code when the database answered with one
/// (`Error::Database` whose [`DatabaseError::code`](sqlx::error::DatabaseError::code)
/// is `Some`): the SQLSTATE for PostgreSQL and MySQL (`"23505"`), the
/// extended result code for SQLite (`"2067"`); `None` for every other error.
///
/// This is the value of `db.response.status_code`, which the database
/// conventions ask for on the span and the duration point of a failed
/// database call, and the `error.type` of such an error.
///
/// ```
/// assert_eq!(instrument_errors::db::response_status_code(&sqlx::Error::RowNotFound), None);
/// ```
pub fn response_status_code(error: &Error) -> Option<Cow<'static, str>> {
    let code = error.as_database_error()?.code()?;
    Some(Cow::Owned(code.into_owned()))
}

/// An error that carries a database's status code, for the `db` flag
/// (`#[instrument_errors(kind = client, db)]`): implemented for
/// [`sqlx::Error`] ([`response_status_code`]), references and boxes; implement
/// it for your own error types that wrap one.
pub trait ResponseStatusCode {
    /// The code the database answered with, if it answered.
    fn response_status_code(&self) -> Option<Cow<'static, str>>;
}

impl ResponseStatusCode for Error {
    #[inline]
    fn response_status_code(&self) -> Option<Cow<'static, str>> {
        response_status_code(self)
    }
}

impl<T: ResponseStatusCode + ?Sized> ResponseStatusCode for &T {
    #[inline]
    fn response_status_code(&self) -> Option<Cow<'static, str>> {
        (**self).response_status_code()
    }
}

impl<T: ResponseStatusCode + ?Sized> ResponseStatusCode for Box<T> {
    #[inline]
    fn response_status_code(&self) -> Option<Cow<'static, str>> {
        (**self).response_status_code()
    }
}

/// `db.response.status_code`.
const DB_RESPONSE_STATUS_CODE: &str = "db.response.status_code";

impl crate::protocol::Protocol for crate::protocol::Db {
    type Status = Cow<'static, str>;

    /// A database client call that the database answered with a code failed.
    #[inline]
    fn is_failure(_: crate::protocol::Side, _: &Cow<'static, str>) -> bool {
        true
    }

    #[inline]
    fn error_type(code: &Cow<'static, str>) -> Cow<'static, str> {
        code.clone()
    }

    #[inline]
    fn attribute(code: Cow<'static, str>) -> opentelemetry::KeyValue {
        opentelemetry::KeyValue::new(DB_RESPONSE_STATUS_CODE, code)
    }
}

impl<T: ResponseStatusCode + ?Sized> crate::protocol::ViaStatus
    for crate::protocol::StatusOf<'_, crate::protocol::Db, T>
{
    type Status = Cow<'static, str>;

    #[inline]
    fn ie_status(&self) -> Option<Cow<'static, str>> {
        self.value().response_status_code()
    }
}

// Found inside type-erased errors (`anyhow::Error`, `Box<dyn Error>`).
crate::register_error_type!(Error);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_by_name() {
        assert_eq!(Error::RowNotFound.error_type(), "row_not_found");
        assert_eq!(Error::PoolTimedOut.error_type(), "pool_timed_out");
        assert_eq!(Error::PoolClosed.error_type(), "pool_closed");
        assert_eq!(
            Error::ColumnDecode {
                index: "0".into(),
                source: "bad".into()
            }
            .error_type(),
            "column_decode"
        );
        assert_eq!(
            Error::Io(std::io::ErrorKind::ConnectionRefused.into()).error_type(),
            "std::io::ErrorKind::ConnectionRefused"
        );
        assert_eq!(response_status_code(&Error::PoolClosed), None);
    }

    #[test]
    fn snake() {
        assert_eq!(snake_case("Migrate"), "migrate");
        assert_eq!(snake_case("PoolTimedOut"), "pool_timed_out");
    }

    #[test]
    fn found_inside_erased_errors() {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::PoolTimedOut);
        assert_eq!(boxed.error_type(), "pool_timed_out");
    }
}
