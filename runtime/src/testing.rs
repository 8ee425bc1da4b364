//! What an instrumented call recorded, captured in a unit test (feature
//! `testing`, meant for `[dev-dependencies]`).
//!
//! ```
//! use instrument_errors::{instrument_errors, testing, ErrorType};
//! use opentelemetry::logs::Severity;
//! use opentelemetry::trace::Status;
//!
//! #[derive(Debug, ErrorType)]
//! enum StoreError {
//!     #[error_type("timeout")]
//!     TimedOut,
//! }
//! impl std::fmt::Display for StoreError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("the store timed out")
//!     }
//! }
//!
//! #[instrument_errors(name = "store.get", kind = client)]
//! fn get(id: u32) -> Result<String, StoreError> {
//!     Err(StoreError::TimedOut)
//! }
//!
//! let (result, captured) = testing::capture(|| get(7));
//! assert!(result.is_err());
//! let call = captured.call("store.get");
//! assert_eq!(call.status(), &Status::error("the store timed out"));
//! assert_eq!(call.error_type(), Some("timeout"));
//! assert_eq!(call.metric_attribute("error.type"), Some(&"timeout".into()));
//! let record = call.record().expect("one exception record");
//! assert_eq!(record.severity(), Severity::Warn);
//! assert_eq!(record.event_name(), "store.get.exception");
//! ```
//!
//! # What is captured
//!
//! Every instrumented call that **starts** inside [`capture`]'s closure (on
//! the calling thread) or inside [`capture_future`]'s future (on whatever
//! thread polls it), with or without OpenTelemetry providers and a `tracing`
//! subscriber installed, sampled or not: a call site that records nothing
//! today is captured all the same. Calls on other threads, in tasks spawned
//! from the future (unless given its context, `fut.with_current_context()`)
//! and in other tests are not: the capture travels in the OpenTelemetry
//! [`Context`], as the instrumented functions' spans do, so tests running
//! in parallel each see their own calls only.
//!
//! The values are the ones the runtime hands to OpenTelemetry and `tracing`,
//! read where it hands them over: the span's name, kind, attributes (given at
//! creation and set later, `error.type` and `result_attributes` included)
//! and status as the span receives them; the duration histogram's name and
//! the point's attributes as the histogram receives them; the exception
//! record's event name, severity and attributes as the `tracing` event
//! carries them (which `opentelemetry-appender-tracing` turns into a log
//! record). Durations and timestamps are not captured.
//!
//! Without a capture, the runtime's cost of this feature is one relaxed
//! atomic load per instrumented call; without the feature, nothing.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::SystemTime;

use opentelemetry::logs::Severity;
use opentelemetry::trace::{
    SpanBuilder, SpanContext, SpanKind, Status, TraceContextExt as _, Tracer as _,
};
use opentelemetry::{global, Context, Key, KeyValue, Value};

use crate::exception::ExceptionRecord;
use crate::site::{CallSite, ERROR_TYPE};

/// How many captures are running, in the whole process: without one, an
/// instrumented call does not look for a capture in its context.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Whether any capture is running (one relaxed load).
#[inline(always)]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed) != 0
}

/// Counts a running capture until dropped.
#[derive(Debug)]
struct Running;

impl Running {
    fn start() -> Running {
        ACTIVE.fetch_add(1, Ordering::Relaxed);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Calls `body` and returns its result with every instrumented call it made
/// on this thread (see [the module](self)). A panic in `body` continues
/// unchanged.
pub fn capture<R>(body: impl FnOnce() -> R) -> (R, Captured) {
    let sink = Arc::new(Sink::default());
    let running = Running::start();
    let guard = Context::current()
        .with_value(Scope {
            sink: sink.clone(),
            call: None,
        })
        .attach();
    let out = body();
    drop(guard);
    drop(running);
    (out, sink.captured())
}

/// Runs `fut` to completion and returns its output with every instrumented
/// call made while it was polled, on whichever thread (see
/// [the module](self)). The returned future is `Send` when `fut` is, so it
/// can be spawned.
pub fn capture_future<F: Future>(fut: F) -> CaptureFuture<F> {
    let sink = Arc::new(Sink::default());
    CaptureFuture {
        fut: Box::pin(fut),
        cx: Context::current().with_value(Scope {
            sink: sink.clone(),
            call: None,
        }),
        sink,
        running: Some(Running::start()),
    }
}

/// The future returned by [`capture_future`].
#[must_use = "futures do nothing unless polled"]
pub struct CaptureFuture<F> {
    fut: Pin<Box<F>>,
    cx: Context,
    sink: Arc<Sink>,
    running: Option<Running>,
}

impl<F> fmt::Debug for CaptureFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureFuture").finish_non_exhaustive()
    }
}

impl<F: Future> Future for CaptureFuture<F> {
    type Output = (F::Output, Captured);

    fn poll(mut self: Pin<&mut Self>, task: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let guard = this.cx.clone().attach();
        let poll = this.fut.as_mut().poll(task);
        drop(guard);
        match poll {
            Poll::Pending => Poll::Pending,
            Poll::Ready(out) => {
                this.running = None;
                Poll::Ready((out, this.sink.captured()))
            }
        }
    }
}

/// Everything captured, in the order the calls finished.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    calls: Vec<Call>,
}

impl Captured {
    /// The calls, in the order they finished (their span ended).
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The one call whose span is named `name`.
    ///
    /// # Panics
    ///
    /// Unless exactly one call has that name; the message lists the calls
    /// captured.
    #[track_caller]
    pub fn call(&self, name: &str) -> &Call {
        let mut found = self.calls.iter().filter(|c| c.name == name);
        match (found.next(), found.next()) {
            (Some(call), None) => call,
            (first, _) => {
                let names: Vec<&str> = self.calls.iter().map(Call::name).collect();
                panic!(
                    "expected exactly one captured call named {name:?}, found {}; captured: {names:?}",
                    if first.is_none() { "none" } else { "several" }
                )
            }
        }
    }
}

/// One instrumented call, as recorded.
#[derive(Debug, Clone)]
pub struct Call {
    name: Cow<'static, str>,
    kind: SpanKind,
    status: Status,
    span_attributes: Vec<KeyValue>,
    metric_name: Cow<'static, str>,
    metric_attributes: Option<Vec<KeyValue>>,
    records: Vec<Record>,
    parent: Option<Cow<'static, str>>,
}

impl Call {
    /// The span name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The span kind.
    pub fn kind(&self) -> SpanKind {
        self.kind.clone()
    }

    /// The span status: `Unset` unless the call failed.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The span's `error.type`, when the call failed.
    pub fn error_type(&self) -> Option<&str> {
        match self.span_attribute(ERROR_TYPE)? {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The span attribute `key` (the last value set), among those given when
    /// the span started and set later.
    pub fn span_attribute(&self, key: &str) -> Option<&Value> {
        find(&self.span_attributes, key)
    }

    /// All the span attributes, in the order they were set.
    pub fn span_attributes(&self) -> &[KeyValue] {
        &self.span_attributes
    }

    /// The duration histogram's name.
    pub fn metric_name(&self) -> &str {
        &self.metric_name
    }

    /// The attribute `key` of this call's duration point; `None` also when
    /// no point was recorded (a cancelled future records none).
    pub fn metric_attribute(&self, key: &str) -> Option<&Value> {
        find(self.metric_attributes.as_deref()?, key)
    }

    /// Whether a duration point was recorded (not for a cancelled future).
    pub fn metric_recorded(&self) -> bool {
        self.metric_attributes.is_some()
    }

    /// The exception log record of this call: the exception that escaped it
    /// first, or the `DEBUG` record of an error `ok_if` accepted.
    pub fn record(&self) -> Option<&Record> {
        self.records.first()
    }

    /// The name of the call this one was made in, when it was captured too.
    pub fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }
}

/// An exception log record, as the `tracing` event carries it.
#[derive(Debug, Clone)]
pub struct Record {
    event_name: &'static str,
    severity: Severity,
    attributes: Vec<KeyValue>,
}

impl Record {
    /// The event name: `<span name>.exception`.
    pub fn event_name(&self) -> &str {
        self.event_name
    }

    /// The severity, as `opentelemetry-appender-tracing` maps the level.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The attribute `key`: `exception.type`, `exception.message`,
    /// `exception.stacktrace`, `code.function.name`, the `handled_attribute`.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        find(&self.attributes, key)
    }

    /// All the attributes, in the event's field order.
    pub fn attributes(&self) -> &[KeyValue] {
        &self.attributes
    }
}

fn find<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

// ------------------------------------------------------------------ the sink

#[derive(Debug, Default)]
struct Sink {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Every call started, by id.
    calls: Vec<Data>,
    /// Ids of the calls whose span ended, in that order.
    finished: Vec<usize>,
}

#[derive(Debug)]
struct Data {
    call: Call,
    parent: Option<usize>,
    ended: bool,
}

impl Sink {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, id: usize, f: impl FnOnce(&mut Data)) {
        if let Some(data) = self.lock().calls.get_mut(id) {
            f(data);
        }
    }

    fn captured(&self) -> Captured {
        let inner = self.lock();
        let calls = inner
            .finished
            .iter()
            .map(|&id| {
                let data = &inner.calls[id];
                let mut call = data.call.clone();
                call.parent = data.parent.map(|p| inner.calls[p].call.name.clone());
                call
            })
            .collect();
        Captured { calls }
    }
}

/// A value of the OpenTelemetry [`Context`]: the capture that calls started
/// under it go to, and the captured call it belongs to (`None`: the capture
/// itself).
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    sink: Arc<Sink>,
    call: Option<usize>,
}

/// The capture of the call being started, if a capture is running and the
/// current context belongs to it.
#[inline]
pub(crate) fn begin(site: &'static CallSite) -> Option<Scope> {
    if !active() {
        return None;
    }
    begin_in_scope(site)
}

#[cold]
fn begin_in_scope(site: &'static CallSite) -> Option<Scope> {
    let scope = Context::map_current(|cx| cx.get::<Scope>().cloned())?;
    let info = site.info();
    let id = {
        let mut inner = scope.sink.lock();
        inner.calls.push(Data {
            call: Call {
                name: Cow::Borrowed(info.name),
                kind: info.kind.into(),
                status: Status::Unset,
                span_attributes: Vec::new(),
                metric_name: Cow::Borrowed(info.metric_name()),
                metric_attributes: None,
                records: Vec::new(),
                parent: None,
            },
            parent: scope.call,
            ended: false,
        });
        inner.calls.len() - 1
    };
    Some(Scope {
        sink: scope.sink,
        call: Some(id),
    })
}

/// The capture of the current context, for an exception record that waits.
#[inline]
pub(crate) fn current() -> Option<Scope> {
    if !active() {
        return None;
    }
    Context::map_current(|cx| cx.get::<Scope>().cloned())
}

impl Scope {
    /// Starts the call's span from the `builder` the runtime made, as a
    /// [`CaptureSpan`] around the tracer's span (when there is a tracer);
    /// returns the call's context and whether the tracer's span records.
    pub(crate) fn start_span<A, I>(
        &self,
        tracer: Option<&global::BoxedTracer>,
        builder: SpanBuilder,
        parent: &Context,
        attributes: A,
    ) -> (Context, bool)
    where
        A: FnOnce() -> I,
        I: IntoIterator<Item = KeyValue>,
    {
        if let Some(id) = self.call {
            self.sink.update(id, |data| {
                data.call.name = builder.name.clone();
                data.call.kind = builder.span_kind.clone().unwrap_or(SpanKind::Internal);
                data.call.span_attributes = builder.attributes.clone().unwrap_or_default();
            });
        }
        let inner = tracer.map(|t| t.build_with_context(builder, parent));
        let recording = inner
            .as_ref()
            .is_some_and(opentelemetry::trace::Span::is_recording);
        let span_context = match &inner {
            Some(span) => opentelemetry::trace::Span::span_context(span).clone(),
            // No tracer: transparent, as the API's no-op tracer is.
            None => parent.span().span_context().clone(),
        };
        let mut span = CaptureSpan {
            scope: self.clone(),
            inner,
            span_context,
            ended: false,
        };
        opentelemetry::trace::Span::set_attributes(&mut span, attributes());
        (parent.with_span(span).with_value(self.clone()), recording)
    }

    /// The duration point, with the attributes the histogram gets.
    pub(crate) fn metric(&self, name: &'static str, attributes: &[KeyValue]) {
        if let Some(id) = self.call {
            self.sink.update(id, |data| {
                data.call.metric_name = Cow::Borrowed(name);
                data.call.metric_attributes = Some(attributes.to_vec());
            });
        }
    }

    /// This scope, as a value of `cx`.
    pub(crate) fn within(&self, cx: Context) -> Context {
        cx.with_value(self.clone())
    }
}

/// The exception event about to be emitted for `record`, with the metadata
/// of its `tracing` callsite: kept for the call of the current context.
pub(crate) fn record(meta: &'static tracing::Metadata<'static>, record: &ExceptionRecord<'_>) {
    let Some(Scope {
        sink,
        call: Some(id),
    }) = current()
    else {
        return;
    };
    // The `message` field is the log record's body, not an attribute
    // (`opentelemetry-appender-tracing`); the others follow in this order.
    let mut names = meta.fields().iter().filter(|f| f.name() != "message");
    let mut attributes = Vec::with_capacity(5);
    let values = [
        Some(record.r#type),
        record.message,
        record.stacktrace,
        Some(record.function),
        record.handled,
    ];
    for value in values {
        let Some(field) = names.next() else { break };
        if let Some(value) = value {
            attributes.push(KeyValue::new(
                Key::from_static_str(field.name()),
                value.to_owned(),
            ));
        }
    }
    let severity = match *meta.level() {
        tracing::Level::TRACE => Severity::Trace,
        tracing::Level::DEBUG => Severity::Debug,
        tracing::Level::INFO => Severity::Info,
        tracing::Level::WARN => Severity::Warn,
        _ => Severity::Error,
    };
    sink.update(id, |data| {
        data.call.records.push(Record {
            event_name: meta.name(),
            severity,
            attributes,
        });
    });
}

/// The span of a captured call: what the runtime sets on it is kept, and
/// handed on to the tracer's span, if any.
#[derive(Debug)]
struct CaptureSpan {
    scope: Scope,
    inner: Option<global::BoxedSpan>,
    span_context: SpanContext,
    ended: bool,
}

impl CaptureSpan {
    fn update(&self, f: impl FnOnce(&mut Call)) {
        if let Some(id) = self.scope.call {
            self.scope.sink.update(id, |data| f(&mut data.call));
        }
    }
}

impl opentelemetry::trace::Span for CaptureSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        if let Some(inner) = &mut self.inner {
            inner.add_event_with_timestamp(name, timestamp, attributes);
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        !self.ended
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if self.ended {
            return;
        }
        self.update(|call| call.span_attributes.push(attribute.clone()));
        if let Some(inner) = &mut self.inner {
            inner.set_attribute(attribute);
        }
    }

    fn set_status(&mut self, status: Status) {
        if self.ended {
            return;
        }
        self.update(|call| {
            // As the SDK: Ok > Error > Unset.
            if status > call.status {
                call.status = status.clone();
            }
        });
        if let Some(inner) = &mut self.inner {
            inner.set_status(status);
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        let name = new_name.into();
        self.update(|call| call.name = name.clone());
        if let Some(inner) = &mut self.inner {
            inner.update_name(name);
        }
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        if let Some(inner) = &mut self.inner {
            inner.add_link(span_context, attributes);
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        if let Some(id) = self.scope.call {
            let mut inner = self.scope.sink.lock();
            if let Some(data) = inner.calls.get_mut(id) {
                if !data.ended {
                    data.ended = true;
                    inner.finished.push(id);
                }
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.end_with_timestamp(timestamp);
        }
    }
}

impl Drop for CaptureSpan {
    fn drop(&mut self) {
        if !self.ended {
            opentelemetry::trace::Span::end(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &'static str) -> Call {
        Call {
            name: Cow::Borrowed(name),
            kind: SpanKind::Internal,
            status: Status::Unset,
            span_attributes: vec![KeyValue::new("k", 1), KeyValue::new("k", 2)],
            metric_name: Cow::Borrowed("m"),
            metric_attributes: None,
            records: Vec::new(),
            parent: None,
        }
    }

    #[test]
    fn the_last_value_set_wins() {
        assert_eq!(call("a").span_attribute("k"), Some(&Value::I64(2)));
        assert_eq!(call("a").metric_attribute("k"), None);
        assert!(!call("a").metric_recorded());
    }

    #[test]
    #[should_panic(expected = "found none; captured: [\"a\", \"b\"]")]
    fn call_lists_what_was_captured() {
        let captured = Captured {
            calls: vec![call("a"), call("b")],
        };
        assert_eq!(captured.call("a").name(), "a");
        captured.call("c");
    }

    #[test]
    fn no_capture_outside() {
        assert!(current().is_none());
        let ((), _) = capture(|| assert!(current().is_some()));
        assert!(current().is_none());
    }
}
