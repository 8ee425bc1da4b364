//! `error.type` for the errors real Rust code returns (issue 11): thiserror
//! wrappers with `#[error_type(transparent)]`, `std::io::Error` kinds, std
//! errors, `Box<dyn Error>`, `anyhow::Error` and `eyre::Report`, read back
//! from the SDK's span, metric and log exporters: the same value on all three.

use std::error::Error;
use std::fmt;

use anyhow::Context as _;
use instrument_errors::{instrument_errors, ErrorType, ERROR_TYPE_LIMIT, OTHER};
use instrument_errors_tests::{attr, error_description, telemetry, Log};
use opentelemetry::Value;

// ---------------------------------------------------------------- the errors

/// The storage layer's errors.
#[derive(Debug, thiserror::Error, ErrorType)]
enum StoreError {
    #[error("the store timed out")]
    #[error_type("timeout")]
    TimedOut,
    #[error("no such row")]
    NotFound,
}

/// The application layer's errors, wrapping the storage layer's.
#[derive(Debug, thiserror::Error, ErrorType)]
enum AppError {
    #[error("the store failed")]
    #[error_type(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    #[error_type(transparent)]
    Io(#[from] std::io::Error),
    #[error("could not load the profile")]
    #[error_type(transparent)]
    Profile {
        #[source]
        inner: anyhow::Error,
    },
    #[error("bad input")]
    BadInput,
}

/// A struct wrapper.
#[derive(Debug, thiserror::Error, ErrorType)]
#[error("cache failed")]
#[error_type(transparent)]
struct CacheError(#[from] StoreError);

// ---------------------------------------------------------------- helpers

/// The `error.type` of span `name`, asserting that the metric point and the
/// exception log record of the same call carry the same value, and returns
/// the log record.
fn recorded(name: &str) -> (String, Log) {
    let t = telemetry();
    let span = t.span(name);
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
    assert_eq!(
        logs[0].get("exception.type"),
        Some(value.as_str()),
        "{name} log"
    );
    (value, logs.into_iter().next().expect("one"))
}

/// The log record's `exception.stacktrace`, without its final newline.
fn stacktrace(log: &Log) -> Option<&str> {
    log.get("exception.stacktrace").map(str::trim_end)
}

// ---------------------------------------------------------------- thiserror

#[instrument_errors(name = "et.app.store", metric = "et.app.store.duration")]
fn app_store() -> Result<(), AppError> {
    Err(StoreError::TimedOut)?;
    Ok(())
}

#[instrument_errors(name = "et.app.io", metric = "et.app.io.duration")]
fn app_io() -> Result<(), AppError> {
    Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))?;
    Ok(())
}

#[instrument_errors(name = "et.app.profile", metric = "et.app.profile.duration")]
fn app_profile() -> Result<(), AppError> {
    let inner = anyhow::Error::from(StoreError::NotFound).context("reading profile row");
    Err(AppError::Profile { inner })
}

#[instrument_errors(name = "et.app.bad_input", metric = "et.app.bad_input.duration")]
fn app_bad_input() -> Result<(), AppError> {
    Err(AppError::BadInput)
}

#[instrument_errors(name = "et.cache", metric = "et.cache.duration")]
fn cache() -> Result<(), CacheError> {
    Err(StoreError::NotFound)?;
    Ok(())
}

#[test]
fn transparent_wrappers_report_the_inner_value() {
    let _t = telemetry();
    let _ = app_store();
    let (value, log) = recorded("et.app.store");
    assert_eq!(value, "timeout");
    assert_eq!(log.get("exception.message"), Some("the store failed"));
    assert_eq!(stacktrace(&log), Some("caused by (0): the store timed out"));

    let _ = app_io();
    assert_eq!(
        recorded("et.app.io").0,
        "std::io::ErrorKind::PermissionDenied"
    );

    let _ = app_profile();
    assert_eq!(recorded("et.app.profile").0, "not_found");

    let _ = app_bad_input();
    assert_eq!(recorded("et.app.bad_input").0, "bad_input");

    let _ = cache();
    assert_eq!(recorded("et.cache").0, "not_found");
}

// ---------------------------------------------------------------- std::io

#[instrument_errors(name = "et.io", metric = "et.io.duration")]
fn read(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

#[instrument_errors(name = "et.io.denied", metric = "et.io.denied.duration")]
fn denied() -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "cannot open /etc/shadow",
    ))
}

#[instrument_errors(name = "et.io.other", metric = "et.io.other.duration")]
fn io_other_over_derived() -> std::io::Result<()> {
    Err(std::io::Error::other(StoreError::TimedOut))
}

#[test]
fn io_kinds_are_told_apart() {
    let _t = telemetry();
    let missing = std::env::temp_dir().join("instrument-errors-no-such-file-e7c1");
    let _ = read(missing.to_str().expect("utf-8 path"));
    let (value, log) = recorded("et.io");
    assert_eq!(value, "std::io::ErrorKind::NotFound");
    assert!(log.get("exception.message").is_some());

    let _ = denied();
    let (value, log) = recorded("et.io.denied");
    assert_eq!(value, "std::io::ErrorKind::PermissionDenied");
    assert_eq!(
        log.get("exception.message"),
        Some("cannot open /etc/shadow")
    );

    // `io::Error::other(e)` wraps `e`: the original is preferred.
    let _ = io_other_over_derived();
    assert_eq!(recorded("et.io.other").0, "timeout");
}

// ---------------------------------------------------------------- std errors

#[instrument_errors(name = "et.std.parse", metric = "et.std.parse.duration")]
fn parse_port(s: &str) -> Result<u16, std::num::ParseIntError> {
    s.parse()
}

#[instrument_errors(name = "et.std.utf8", metric = "et.std.utf8.duration")]
fn decode(bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
    String::from_utf8(bytes)
}

#[test]
fn std_errors_report_their_public_path() {
    let _t = telemetry();
    let _ = parse_port("http");
    assert_eq!(recorded("et.std.parse").0, "std::num::ParseIntError");
    let _ = decode(vec![0xff, 0xfe]);
    assert_eq!(recorded("et.std.utf8").0, "std::string::FromUtf8Error");
}

// ---------------------------------------------------------------- anyhow

#[instrument_errors(name = "et.anyhow.io", metric = "et.anyhow.io.duration")]
fn load_config(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading config {path}"))
}

#[instrument_errors(name = "et.anyhow.derived", metric = "et.anyhow.derived.duration")]
fn anyhow_derived() -> anyhow::Result<()> {
    Err(StoreError::NotFound).context("loading user 7")?;
    Ok(())
}

#[instrument_errors(name = "et.anyhow.wrapper", metric = "et.anyhow.wrapper.duration")]
fn anyhow_wrapper() -> anyhow::Result<()> {
    Err(AppError::from(StoreError::TimedOut))?;
    Ok(())
}

#[instrument_errors(name = "et.anyhow.parse", metric = "et.anyhow.parse.duration")]
fn anyhow_parse() -> anyhow::Result<u16> {
    "x".parse::<u16>().context("parsing the port")
}

#[instrument_errors(name = "et.anyhow.msg", metric = "et.anyhow.msg.duration")]
fn anyhow_msg() -> anyhow::Result<()> {
    anyhow::bail!("nothing to say about its type")
}

#[test]
fn anyhow_context_over_io_reports_the_io_kind() {
    let _t = telemetry();
    let path = std::env::temp_dir().join("instrument-errors-no-such-config-e7c1");
    let path = path.to_str().expect("utf-8 path");
    let io_message = std::fs::read_to_string(path).unwrap_err().to_string();
    let _ = load_config(path);
    let (value, log) = recorded("et.anyhow.io");
    assert_eq!(value, "std::io::ErrorKind::NotFound");
    let context = format!("reading config {path}");
    assert_eq!(log.get("exception.message"), Some(context.as_str()));
    assert_eq!(
        error_description(&telemetry().span("et.anyhow.io")).as_deref(),
        Some(context.as_str())
    );
    assert_eq!(
        stacktrace(&log),
        Some(format!("caused by (0): {io_message}").as_str())
    );
}

#[test]
fn anyhow_reports_what_it_wraps() {
    let _t = telemetry();
    let _ = anyhow_derived();
    let (value, log) = recorded("et.anyhow.derived");
    assert_eq!(value, "not_found");
    assert_eq!(log.get("exception.message"), Some("loading user 7"));
    assert_eq!(stacktrace(&log), Some("caused by (0): no such row"));

    let _ = anyhow_wrapper();
    let (value, log) = recorded("et.anyhow.wrapper");
    assert_eq!(value, "timeout");
    assert_eq!(stacktrace(&log), Some("caused by (0): the store timed out"));

    let _ = anyhow_parse();
    assert_eq!(recorded("et.anyhow.parse").0, "std::num::ParseIntError");

    // A bare message has no type: the conventions' fallback, never
    // `anyhow::Error`.
    let _ = anyhow_msg();
    let (value, log) = recorded("et.anyhow.msg");
    assert_eq!(value, OTHER);
    assert_eq!(stacktrace(&log), None);
}

// ---------------------------------------------------------------- eyre

#[instrument_errors(name = "et.eyre.derived", metric = "et.eyre.derived.duration")]
fn eyre_derived() -> eyre::Result<()> {
    // `eyre::WrapErr` is called by path: its `context` methods would clash
    // with `anyhow::Context`'s in this file.
    eyre::WrapErr::wrap_err(Err(StoreError::TimedOut), "saving the order")?;
    Ok(())
}

#[instrument_errors(name = "et.eyre.io", metric = "et.eyre.io.duration")]
fn eyre_io() -> eyre::Result<()> {
    eyre::WrapErr::wrap_err(
        Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        "connecting to the store",
    )?;
    Ok(())
}

#[instrument_errors(name = "et.eyre.msg", metric = "et.eyre.msg.duration")]
fn eyre_msg() -> eyre::Result<()> {
    eyre::bail!("just a message")
}

#[test]
fn eyre_reports_what_it_wraps() {
    let _t = telemetry();
    let _ = eyre_derived();
    let (value, log) = recorded("et.eyre.derived");
    assert_eq!(value, "timeout");
    assert_eq!(log.get("exception.message"), Some("saving the order"));
    assert_eq!(stacktrace(&log), Some("caused by (0): the store timed out"));

    let _ = eyre_io();
    assert_eq!(
        recorded("et.eyre.io").0,
        "std::io::ErrorKind::ConnectionRefused"
    );

    let _ = eyre_msg();
    assert_eq!(recorded("et.eyre.msg").0, OTHER);
}

// ---------------------------------------------------------------- Box<dyn Error>

type BoxError = Box<dyn Error + Send + Sync>;

#[instrument_errors(name = "et.box.parse", metric = "et.box.parse.duration")]
fn boxed_parse(s: &str) -> Result<u16, Box<dyn Error>> {
    Ok(s.parse::<u16>()?)
}

#[instrument_errors(name = "et.box.derived", metric = "et.box.derived.duration")]
fn boxed_derived() -> Result<(), BoxError> {
    Err(AppError::Store(StoreError::NotFound))?;
    Ok(())
}

#[instrument_errors(name = "et.box.io", metric = "et.box.io.duration")]
fn boxed_io() -> Result<(), BoxError> {
    Err(std::io::Error::from(std::io::ErrorKind::TimedOut))?;
    Ok(())
}

#[instrument_errors(name = "et.box.string", metric = "et.box.string.duration")]
fn boxed_string() -> Result<(), BoxError> {
    Err("a plain message".into())
}

/// `Box<T>` of a derived type keeps its own value.
#[instrument_errors(name = "et.box.concrete", metric = "et.box.concrete.duration")]
fn boxed_concrete() -> Result<(), Box<StoreError>> {
    Err(Box::new(StoreError::TimedOut))
}

/// An error that `Box<dyn Error>` carries as its source, the way a client
/// library wraps what it got.
#[derive(Debug)]
struct Request {
    source: BoxError,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request failed")
    }
}

impl Error for Request {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

#[instrument_errors(name = "et.box.chain", metric = "et.box.chain.duration")]
fn boxed_chain() -> Result<(), BoxError> {
    Err(Box::new(Request {
        source: Box::new(Request {
            source: "x".parse::<f64>().unwrap_err().into(),
        }),
    }))
}

#[test]
fn boxed_errors_report_their_chain() {
    let _t = telemetry();
    let _ = boxed_parse("http");
    let (value, log) = recorded("et.box.parse");
    assert_eq!(value, "std::num::ParseIntError");
    assert_eq!(
        log.get("exception.message"),
        Some("invalid digit found in string")
    );

    let _ = boxed_derived();
    let (value, log) = recorded("et.box.derived");
    assert_eq!(value, "not_found");
    assert_eq!(log.get("exception.message"), Some("the store failed"));
    assert_eq!(stacktrace(&log), Some("caused by (0): no such row"));

    let _ = boxed_io();
    assert_eq!(recorded("et.box.io").0, "std::io::ErrorKind::TimedOut");

    let _ = boxed_string();
    assert_eq!(recorded("et.box.string").0, OTHER);

    let _ = boxed_concrete();
    assert_eq!(recorded("et.box.concrete").0, "timeout");

    // Neither wrapper is known: the root cause's type.
    let _ = boxed_chain();
    let (value, log) = recorded("et.box.chain");
    assert_eq!(value, "std::num::ParseFloatError");
    assert_eq!(
        stacktrace(&log),
        Some("caused by (0): request failed\ncaused by (1): invalid float literal")
    );
}

// ---------------------------------------------------------------- bounds

/// A root cause whose `Debug` names a different type every time: a computed
/// value, bounded per operation like any other.
struct Named(u32);

impl fmt::Debug for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kind{} {{ .. }}", self.0)
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kind {}", self.0)
    }
}

impl Error for Named {}

#[instrument_errors(name = "et.bounded", metric = "et.bounded.duration")]
fn bounded(n: u32) -> Result<(), BoxError> {
    Err(Box::new(Named(n)))
}

#[test]
fn computed_root_cause_names_are_bounded() {
    let t = telemetry();
    let calls = ERROR_TYPE_LIMIT as u32 + 10;
    for n in 0..calls {
        let _ = bounded(n);
    }
    let mut values: Vec<String> = t
        .spans_named("et.bounded")
        .iter()
        .map(|s| attr(s, "error.type").expect("error.type").to_string())
        .collect();
    assert_eq!(values.len(), calls as usize);
    assert_eq!(values[0], "Kind0");
    let others = values.iter().filter(|v| *v == OTHER).count();
    assert_eq!(others, 10);
    values.sort();
    values.dedup();
    assert_eq!(values.len(), ERROR_TYPE_LIMIT + 1);
    let points = t.points("et.bounded.duration", &[]);
    assert_eq!(points.len(), ERROR_TYPE_LIMIT + 1);
    assert_eq!(
        points
            .iter()
            .find(|p| p.get("error.type") == Some(OTHER))
            .map(|p| p.count),
        Some(10)
    );
}

// ---------------------------------------------------------------- generic and local

/// A generic wrapper: the bound on the field is added by the derive. Not
/// registered for erased errors (no single type to look for), its own
/// `ErrorType` works.
#[derive(Debug, ErrorType)]
enum Layered<E> {
    #[error_type(transparent)]
    Inner(E),
    Closed,
}

#[test]
fn generic_transparent_and_local_types() {
    let _t = telemetry();
    assert_eq!(Layered::Inner(StoreError::TimedOut).error_type(), "timeout");
    assert_eq!(
        Layered::Inner(std::io::Error::from(std::io::ErrorKind::NotFound)).error_type(),
        "std::io::ErrorKind::NotFound"
    );
    assert_eq!(Layered::<StoreError>::Closed.error_type(), "closed");

    // A type declared in a function body is registered too.
    #[derive(Debug, thiserror::Error, ErrorType)]
    enum Local {
        #[error("local failure")]
        Failure,
    }
    let e = anyhow::Error::from(Local::Failure).context("outer");
    assert_eq!(e.error_type(), "failure");
}

// ---------------------------------------------------------------- by hand

#[test]
fn the_values_are_available_to_error_type_functions() {
    let _t = telemetry();
    let e = anyhow::Error::from(StoreError::NotFound).context("x");
    assert_eq!(e.error_type(), "not_found");
    let e: BoxError = Box::new(std::io::Error::from(std::io::ErrorKind::NotFound));
    assert_eq!(e.error_type(), "std::io::ErrorKind::NotFound");
    let dyn_error: &(dyn Error + 'static) = &*e;
    assert_eq!(dyn_error.error_type(), "std::io::ErrorKind::NotFound");
    assert_eq!(
        Value::from(AppError::from(StoreError::TimedOut).error_type()),
        Value::from("timeout")
    );
}
