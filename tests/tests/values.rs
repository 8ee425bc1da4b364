//! Issue 18: values as plain Rust would have them. `attributes(..)` and
//! `metric_attributes(..)` borrow the parameters they name; an `error_type`
//! function may return a `Cow` borrowed from the error; a type-name
//! `error.type` leaves out generic arguments; `Arc<dyn Error>` and
//! `Box<dyn Error + Sync>` get the chain walk of `Box<dyn Error + Send + Sync>`.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use instrument_errors::instrument_errors;
use instrument_errors_tests::{attr, error_description, telemetry};

fn string_attr(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|v| v.as_str().into_owned())
}

#[derive(Debug)]
pub struct Coded {
    code: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failed with {}", self.code)
    }
}

fn code(e: &Coded) -> Cow<'_, str> {
    Cow::Borrowed(&e.code)
}

#[instrument_errors(
    name = "values.job",
    attributes("job.name" = name, "job.owner" = owner),
    metric_attributes("job.queue" = queue),
    error_type = code,
)]
#[allow(clippy::needless_pass_by_value)]
fn run_job(name: String, owner: &str, queue: String) -> Result<usize, Coded> {
    // Every parameter is still usable: the attribute borrowed them.
    if name.is_empty() {
        return Err(Coded {
            code: format!("E{}", queue.len()),
        });
    }
    Ok(name.len() + owner.len() + queue.len())
}

#[derive(Debug)]
pub struct SendError<T>(pub T);

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

#[instrument_errors(name = "values.generic")]
fn send(job: u32) -> Result<(), SendError<u32>> {
    Err(SendError(job))
}

#[derive(Debug)]
struct Outer(std::io::Error);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reading the config")
    }
}

impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn outer() -> Outer {
    Outer(std::io::Error::from(std::io::ErrorKind::NotFound))
}

#[instrument_errors(name = "values.arc")]
fn shared() -> Result<(), Arc<dyn Error + Send + Sync>> {
    Err(Arc::new(outer()))
}

#[instrument_errors(name = "values.arc_local")]
fn shared_local() -> Result<(), Arc<dyn Error>> {
    Err(Arc::new(outer()))
}

#[instrument_errors(name = "values.box_sync")]
fn boxed_sync() -> Result<(), Box<dyn Error + Sync>> {
    Err(Box::new(outer()))
}

#[test]
fn attributes_borrow_parameters_and_error_type_borrows_the_error() {
    let t = telemetry();
    assert_eq!(
        run_job("nightly".to_owned(), "ops", "q1".to_owned()).ok(),
        Some(12)
    );
    assert!(run_job(String::new(), "ops", "queue".to_owned()).is_err());
    let spans = t.spans_named("values.job");
    assert_eq!(spans.len(), 2);
    assert_eq!(
        string_attr(&spans[0], "job.name").as_deref(),
        Some("nightly")
    );
    assert_eq!(string_attr(&spans[0], "job.owner").as_deref(), Some("ops"));
    assert_eq!(string_attr(&spans[0], "job.queue").as_deref(), Some("q1"));
    assert_eq!(string_attr(&spans[1], "error.type").as_deref(), Some("E5"));
    let points = t.points("function.duration", &[("job.queue", "queue")]);
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].get("error.type"), Some("E5"));
}

#[test]
fn type_names_leave_out_generic_arguments() {
    let t = telemetry();
    assert!(send(3).is_err());
    let span = t.span("values.generic");
    assert_eq!(
        string_attr(&span, "error.type").as_deref(),
        Some("values::SendError")
    );
}

#[test]
fn every_erased_error_walks_its_chain() {
    let t = telemetry();
    assert!(shared().is_err());
    assert!(shared_local().is_err());
    assert!(boxed_sync().is_err());
    for name in ["values.arc", "values.arc_local", "values.box_sync"] {
        let span = t.span(name);
        assert_eq!(
            string_attr(&span, "error.type").as_deref(),
            Some("std::io::ErrorKind::NotFound"),
            "{name}"
        );
        assert_eq!(
            error_description(&span).as_deref(),
            Some("reading the config"),
            "{name}"
        );
        let logs = t.logs_named(&format!("{name}.exception"));
        assert_eq!(logs.len(), 1, "{name}");
        assert_eq!(logs[0].get("exception.message"), Some("reading the config"));
        assert!(
            logs[0]
                .get("exception.stacktrace")
                .is_some_and(|s| s.starts_with("caused by (0): ")),
            "{name}: {:?}",
            logs[0]
        );
    }
}
