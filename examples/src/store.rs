//! The store service: a small resource store whose operations are annotated
//! with `#[instrument_errors]`: a success, a handled error (`ok_if`), a
//! propagated error (`?` through a request handler), and an `Ok` value that
//! is a failure (`error_if`).
//!
//! | call | result | what is recorded |
//! |---|---|---|
//! | `create("r-1")` | `Ok(())` | span `acme.resource.create`, status Unset, no `error.type` |
//! | `create("r-1")` again | `Err(AlreadyExists)` | handled by `ok_if`: recorded as a success |
//! | `handle_get("r-2")` | `Err(NotFound)` | `acme.resource.get` and `GET /resources/{id}`: status Error, `error.type = "not_found"`; one exception log record (WARN, from `acme.resource.get`) |
//! | `health(503)` | `Ok(Health { status: 503 })` | status Error, `error.type = "503"`, no log record |
//! | `health(0)` | `Err(TimedOut)` | `error.type = "timeout"`, one WARN log record |

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use instrument_errors::{instrument_errors, ErrorType};

/// Errors of the store. `error.type` is the variant name in snake_case, or
/// the literal given with `#[error_type]`.
#[derive(Debug, Clone, PartialEq, Eq, ErrorType)]
pub enum StoreError {
    /// The store did not answer in time: `error.type = "timeout"`.
    #[error_type("timeout")]
    TimedOut,
    /// No such resource: `error.type = "not_found"`.
    NotFound,
    /// The resource exists: `error.type = "already_exists"`.
    AlreadyExists,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreError::TimedOut => "the store did not answer within 2s",
            StoreError::NotFound => "no such resource",
            StoreError::AlreadyExists => "the resource already exists",
        })
    }
}

impl std::error::Error for StoreError {}

/// `ok_if` of [`Store::create`]: an existing resource is not a failure.
pub fn is_already_exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

/// A health probe's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The HTTP-like status code.
    pub status: u16,
}

/// An in-memory key-value store.
#[derive(Debug, Default)]
pub struct Store {
    items: Mutex<HashMap<String, String>>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Store::default()
    }

    /// Creating a resource that exists is not a failure for this caller.
    #[instrument_errors(
        name = "acme.resource.create",
        kind = client,
        metric = "acme.resource.create.duration",
        ok_if = is_already_exists,
        attributes("acme.resource.id" = id),
    )]
    pub fn create(&self, id: &str, value: &str) -> Result<(), StoreError> {
        let mut items = self.items.lock().expect("not poisoned");
        if items.contains_key(id) {
            return Err(StoreError::AlreadyExists);
        }
        items.insert(id.to_owned(), value.to_owned());
        Ok(())
    }

    /// Reads a resource.
    #[instrument_errors(name = "acme.resource.get", kind = client)]
    pub fn get(&self, id: &str) -> Result<String, StoreError> {
        self.items
            .lock()
            .expect("not poisoned")
            .get(id)
            .cloned()
            .ok_or(StoreError::NotFound)
    }

    /// A request handler: the store's error propagates with `?`.
    #[instrument_errors(name = "GET /resources/{id}", kind = server)]
    pub fn handle_get(&self, id: &str) -> Result<String, StoreError> {
        let value = self.get(id)?;
        Ok(value.to_uppercase())
    }

    /// The probe returns `Ok` either way; a 5xx answer is a failure.
    #[instrument_errors(
        name = "acme.health",
        error_if = |h: &Health| (h.status >= 500).then(|| h.status.to_string()),
    )]
    pub fn health(&self, status: u16) -> Result<Health, StoreError> {
        if status == 0 {
            return Err(StoreError::TimedOut);
        }
        Ok(Health { status })
    }
}
