//! The expansion of `#[instrument_errors]` adds no warning and no
//! `clippy::pedantic` lint to code that has none: CI runs
//! `cargo clippy --workspace --all-targets -- -D warnings` over this file,
//! whose functions cover every argument and every form of the attribute.

#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, telemetry};
use opentelemetry::Value;

#[derive(Debug, ErrorType)]
enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    NotFound,
    AlreadyExists,
    Backend(u16),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::TimedOut => f.write_str("timed out"),
            StoreError::NotFound => f.write_str("not found"),
            StoreError::AlreadyExists => f.write_str("already exists"),
            StoreError::Backend(code) => write!(f, "backend answered {code}"),
        }
    }
}

impl std::error::Error for StoreError {}

#[derive(Debug, ErrorType)]
#[error_type("config")]
struct ConfigError;

impl From<StoreError> for ConfigError {
    fn from(_: StoreError) -> Self {
        ConfigError
    }
}

fn is_already_exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

fn backend_code(e: &StoreError) -> Cow<'static, str> {
    match e {
        StoreError::Backend(code) => Cow::Owned(format!("backend_{code}")),
        other => other.error_type(),
    }
}

struct Reply {
    code: u16,
}

#[instrument_errors(name = "hygiene.plain")]
fn plain(id: &str) -> Result<usize, StoreError> {
    match id {
        "" => Err(StoreError::NotFound),
        "slow" => Err(StoreError::TimedOut),
        _ => Ok(id.len()),
    }
}

#[instrument_errors(
    name = "hygiene.everything",
    kind = client,
    metric = "hygiene.everything.duration",
    ok_if = is_already_exists,
    error_type = backend_code,
    description = false,
    attributes("id" = id, "len" = id.len(), "flag" = flag, "ratio" = 0.5),
    log_level = error,
)]
fn everything(id: &str, flag: bool) -> Result<(), StoreError> {
    match (id, flag) {
        ("exists", _) => Err(StoreError::AlreadyExists),
        (_, true) => Err(StoreError::Backend(503)),
        _ => Ok(()),
    }
}

#[instrument_errors(
    name = "hygiene.closures",
    ok_if = |e: &StoreError| matches!(e, StoreError::NotFound),
    error_type = |e: &StoreError| e.error_type(),
    log = false,
)]
fn closures(code: u16) -> Result<u16, StoreError> {
    if code >= 500 {
        Err(StoreError::Backend(code))
    } else {
        Ok(code)
    }
}

#[instrument_errors(
    name = "hygiene.error_if",
    kind = server,
    error_if = |r: &Reply| (r.code >= 500).then(|| r.code.to_string()),
)]
fn reply(code: u16) -> Result<Reply, StoreError> {
    Ok(Reply { code })
}

#[instrument_errors(name = "hygiene.not_a_result", error_if = |n: &u32| (*n == 0).then_some("zero"))]
fn not_a_result(n: u32) -> u32 {
    n.saturating_sub(1)
}

#[instrument_errors(name = "hygiene.unit")]
fn unit(n: &mut u32) {
    *n += 1;
}

#[instrument_errors(name = "hygiene.question_mark", kind = producer)]
fn question_mark(id: &str) -> Result<usize, ConfigError> {
    let len = plain(id)?;
    Ok(len * 2)
}

#[instrument_errors(name = "hygiene.generic")]
fn generic<K, S>(map: &HashMap<K, u32, S>, key: &K) -> Result<u32, StoreError>
where
    K: std::hash::Hash + Eq,
    S: BuildHasher,
{
    map.get(key).copied().ok_or(StoreError::NotFound)
}

#[instrument_errors(name = "hygiene.impl_trait")]
fn impl_trait(values: impl IntoIterator<Item = u8>) -> impl Iterator<Item = u8> {
    values.into_iter().map(|v| v.wrapping_mul(2))
}

#[instrument_errors(name = "hygiene.lifetimes")]
fn lifetimes(s: &str) -> Cow<'_, str> {
    if s.contains(' ') {
        Cow::Owned(s.replace(' ', "_"))
    } else {
        Cow::Borrowed(s)
    }
}

#[instrument_errors(name = "hygiene.io", kind = consumer)]
fn io_result(path: &str) -> std::io::Result<String> {
    if path.is_empty() {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no path"))
    } else {
        Ok(path.to_owned())
    }
}

/// Safety: `p` must be valid for reads.
#[instrument_errors(name = "hygiene.unsafe")]
unsafe fn read(p: *const u32) -> u32 {
    *p
}

struct Store {
    name: String,
    writes: u32,
}

impl Store {
    #[instrument_errors(name = "hygiene.name", attributes("store" = self.name.as_str()))]
    fn name(&self) -> &str {
        &self.name
    }

    #[instrument_errors(name = "hygiene.write", attributes("writes" = self.writes))]
    fn write(&mut self, id: &str) -> Result<u32, StoreError> {
        if id.is_empty() {
            return Err(StoreError::NotFound);
        }
        self.writes += 1;
        Ok(self.writes)
    }

    #[instrument_errors(name = "hygiene.into_name")]
    fn into_name(self) -> String {
        self.name
    }
}

trait Repo {
    fn load(&self, id: u32) -> Result<u32, StoreError>;

    #[instrument_errors(name = "hygiene.load_twice")]
    fn load_twice(&self, id: u32) -> Result<u32, StoreError> {
        Ok(self.load(id)? + self.load(id)?)
    }
}

impl Repo for Store {
    #[instrument_errors(name = "hygiene.load")]
    fn load(&self, id: u32) -> Result<u32, StoreError> {
        if id == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(id + self.writes)
        }
    }
}

#[instrument_errors(name = "hygiene.async_fn", attributes("id" = id))]
async fn async_fn(id: u32) -> Result<u32, StoreError> {
    tokio::task::yield_now().await;
    if id == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(id)
    }
}

#[instrument_errors(name = "hygiene.async_block")]
fn async_block(id: u32) -> impl Future<Output = Result<u32, StoreError>> {
    async move { async_fn(id).await }
}

#[test]
fn every_form_runs_and_records() {
    let t = telemetry();
    assert_eq!(plain("ab").unwrap(), 2);
    assert!(plain("").is_err());
    assert!(everything("exists", false).is_err());
    assert!(everything("x", true).is_err());
    assert!(everything("x", false).is_ok());
    assert!(closures(404).is_ok());
    assert!(closures(503).is_err());
    assert_eq!(reply(503).unwrap().code, 503);
    assert_eq!(not_a_result(0), 0);
    let mut n = 0;
    unit(&mut n);
    assert_eq!(n, 1);
    assert_eq!(question_mark("abc").unwrap(), 6);
    assert!(question_mark("slow").is_err());
    let map: HashMap<&str, u32> = HashMap::from([("a", 1)]);
    assert_eq!(generic(&map, &"a").unwrap(), 1);
    assert_eq!(impl_trait([1, 2]).collect::<Vec<_>>(), [2, 4]);
    assert_eq!(lifetimes("a b"), "a_b");
    assert!(io_result("").is_err());
    let value = 7;
    assert_eq!(unsafe { read(std::ptr::from_ref(&value)) }, 7);
    let mut store = Store {
        name: "s".to_owned(),
        writes: 0,
    };
    assert_eq!(store.name(), "s");
    assert_eq!(store.write("a").unwrap(), 1);
    assert!(store.write("").is_err());
    assert_eq!(store.load_twice(1).unwrap(), 4);
    assert_eq!(store.into_name(), "s");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    assert_eq!(runtime.block_on(async_fn(3)).unwrap(), 3);
    assert!(runtime.block_on(async_block(0)).is_err());

    let everything = t.spans_named("hygiene.everything");
    assert_eq!(everything.len(), 3);
    let error_types: Vec<_> = everything.iter().map(|s| attr(s, "error.type")).collect();
    // handled by `ok_if`, failed through `error_type`, succeeded
    assert_eq!(error_types, [None, Some(Value::from("backend_503")), None]);
    assert_eq!(attr(&everything[1], "flag"), Some(Value::Bool(true)));
    assert_eq!(attr(&everything[1], "ratio"), Some(Value::F64(0.5)));
    let question_mark = t.spans_named("hygiene.question_mark");
    assert_eq!(question_mark.len(), 2);
    assert_eq!(attr(&question_mark[0], "error.type"), None);
    assert_eq!(
        attr(&question_mark[1], "error.type"),
        Some(Value::from("config"))
    );
    let span = t.span("hygiene.error_if");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("503")));
    let span = t.span("hygiene.not_a_result");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("zero")));
    assert_eq!(t.spans_named("hygiene.load").len(), 2);
    assert_eq!(t.spans_named("hygiene.async_fn").len(), 2);
    let span = t.span("hygiene.async_block");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("not_found")));
}
