//! One call of an instrumented function: its span, its clock, and the
//! recording of its outcome.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Instant, SystemTime};

use opentelemetry::trace::{SpanBuilder, SpanRef, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_semantic_conventions::attribute;

use crate::classify::{Failure, Verdict};
use crate::exception::{self, ExceptionRecord, MESSAGE_LIMIT};
use crate::site::{CallSite, State, CODE_FUNCTION_NAME, ERROR_TYPE};

/// `error.type` of an operation that panicked.
pub const PANIC: &str = "panic";

/// Runs the expansion's classification (which calls the user's `ok_if`,
/// `error_if`, `error_type` and `ErrorType` code). If that code panics, the
/// panic hook has reported it once; the call is then recorded as a success
/// (nothing is known about it) and the function's result is returned
/// unchanged: telemetry never changes what the function does.
#[inline]
pub(crate) fn classify_contained<'a, R, C>(classify: C, out: &'a R) -> Verdict<'a>
where
    C: FnOnce(&'a R) -> Verdict<'a>,
{
    catch_unwind(AssertUnwindSafe(|| classify(out))).unwrap_or(Verdict::Success)
}

/// One running call of an instrumented function.
///
/// Made by [`CallSite::start`]; consumed by [`Frame::run`] for synchronous
/// bodies or [`CallSite::instrument`] for futures. A frame dropped before its
/// outcome was recorded (a cancelled future) ends its span with status Unset
/// and records no duration: the operation never finished.
#[derive(Debug)]
pub struct Frame {
    site: &'static CallSite,
    /// The context holding this call's span; `None` without a tracer.
    pub(crate) cx: Option<Context>,
    /// When the clock started; `None` without a meter.
    start: Option<Instant>,
    /// The span's start time, when this frame gave it to the SDK: the span
    /// then ends at `span_start + (monotonic) elapsed`, so its duration is
    /// exactly the histogram point's (see [`CallSite::start`]).
    span_start: Option<SystemTime>,
    /// Whether the last instrumented call made inside this one failed with an
    /// exception that is already recorded (see [`crate::exception`]).
    pub(crate) recorded_below: bool,
    /// This call records nothing at all.
    inert: bool,
}

impl CallSite {
    /// Starts a call: a span (child of the current context) and the clock.
    ///
    /// `attributes` is evaluated only when the span is recording.
    ///
    /// # Clocks
    ///
    /// The duration is measured with the monotonic clock ([`Instant`]). With
    /// both a tracer and a meter, the span's start time is read from the wall
    /// clock just before, given to the SDK, and its end time is that start
    /// plus the measured duration: span and histogram point have exactly the
    /// same duration, and a call reads the clocks three times instead of four
    /// (the four reads were about a fifth of the cost of a recorded call). The
    /// wall clock is read only when the last span started on this thread was
    /// recording, so sampled-out spans (which need no timestamps) do not pay
    /// for it; otherwise the SDK times the span itself, as without a meter.
    #[inline]
    pub fn start<A, I>(&'static self, attributes: A) -> Frame
    where
        A: FnOnce() -> I,
        I: IntoIterator<Item = KeyValue>,
    {
        let state = self.state();
        if state.is_inert() {
            return Frame::inert(self);
        }
        let timed = state.histogram.is_some();
        let wall = (timed && state.tracer.is_some() && LAST_SPAN_RECORDED.get())
            .then(opentelemetry::time::now);
        let start = timed.then(Instant::now);
        let (cx, span_start) = match &state.tracer {
            Some(tracer) => self.start_span(tracer, attributes, wall),
            None => (None, None),
        };
        Frame {
            site: self,
            cx,
            start,
            span_start,
            recorded_below: false,
            inert: false,
        }
    }

    /// The span, started at `wall` when given; returns its context and, when
    /// it records, `wall`.
    fn start_span<A, I>(
        &'static self,
        tracer: &opentelemetry::global::BoxedTracer,
        attributes: A,
        wall: Option<SystemTime>,
    ) -> (Option<Context>, Option<SystemTime>)
    where
        A: FnOnce() -> I,
        I: IntoIterator<Item = KeyValue>,
    {
        Context::map_current(|parent| {
            let mut builder =
                SpanBuilder::from_name(self.info.name).with_kind(self.info.kind.into());
            builder.start_time = wall;
            // `code.function.name` is known at creation, so it is given at
            // creation, where samplers can see it (as the trace API asks).
            // Room for `error.type` too: the vector is not grown on failure,
            // and stays small enough that freeing it on the batch exporter's
            // thread does not contend with the caller's allocations.
            let mut initial = Vec::with_capacity(2);
            initial.push(KeyValue::new(CODE_FUNCTION_NAME, self.info.function));
            builder.attributes = Some(initial);
            let mut span = tracer.build_with_context(builder, parent);
            let recording = opentelemetry::trace::Span::is_recording(&span);
            LAST_SPAN_RECORDED.set(recording);
            if !recording {
                // Sampled out: only its span context matters (children and
                // propagators read the trace id and the not-sampled flag), so
                // the context carries just that. The SDK's span is dropped
                // now; it records nothing and exports nothing either way.
                let span_context = opentelemetry::trace::Span::span_context(&span).clone();
                return (Some(parent.with_remote_span_context(span_context)), None);
            }
            opentelemetry::trace::Span::set_attributes(&mut span, attributes());
            (Some(parent.with_span(span)), wall)
        })
    }
}

thread_local! {
    /// Whether the last span started on this thread was recording: a guess
    /// that the next one will be, so that its start time is worth reading.
    static LAST_SPAN_RECORDED: Cell<bool> = const { Cell::new(true) };
}

/// How long a call took, and when its span ends.
#[derive(Clone, Copy)]
struct Timing {
    /// The duration in seconds; `None` without a meter.
    seconds: Option<f64>,
    /// The span's end time when this frame started it; `None`: now.
    span_end: Option<SystemTime>,
}

impl Timing {
    /// Ends `span` at this call's end time.
    #[inline]
    fn end(self, span: &SpanRef<'_>) {
        match self.span_end {
            Some(at) => span.end_with_timestamp(at),
            None => span.end(),
        }
    }
}

impl Frame {
    fn inert(site: &'static CallSite) -> Frame {
        Frame {
            site,
            cx: None,
            start: None,
            span_start: None,
            recorded_below: false,
            inert: true,
        }
    }

    /// `true` when this call records nothing (no tracer, no meter, and no
    /// `tracing` subscriber for its exception event).
    #[inline]
    pub fn is_inert(&self) -> bool {
        self.inert
    }

    /// Runs a synchronous body as this call: the span is the current context
    /// while it runs, a panic is recorded and then continues unchanged, and
    /// the returned value is classified by `classify` and recorded.
    #[inline]
    pub fn run<R, B, C>(mut self, body: B, classify: C) -> R
    where
        B: FnOnce() -> R,
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
    {
        if self.is_inert() {
            // An inert frame owns nothing: skip its destructor.
            std::mem::forget(self);
            return body();
        }
        let guard = self.cx.clone().map(Context::attach);
        exception::enter(false);
        let result = catch_unwind(AssertUnwindSafe(body));
        self.recorded_below = exception::current();
        match result {
            Ok(out) => {
                self.finish(classify_contained(classify, &out), false);
                drop(guard);
                out
            }
            Err(payload) => {
                self.finish_panic(&*payload);
                drop(guard);
                resume_unwind(payload)
            }
        }
    }

    /// Records a panic that is unwinding out of this call.
    #[cold]
    pub(crate) fn finish_panic(&mut self, payload: &(dyn Any + Send)) {
        let message = exception::panic_message(payload);
        let message: Option<&dyn std::fmt::Display> = message.as_ref().map(|m| m as _);
        self.finish(
            Verdict::Failure(Failure {
                error_type: Cow::Borrowed(PANIC),
                message,
                error: None,
            }),
            true,
        );
    }

    /// Records the outcome: span status and `error.type`, the exception log
    /// record, the end of the span and the duration. Leaves for the enclosing
    /// frame whether this call failed with an exception already recorded.
    pub(crate) fn finish(&mut self, verdict: Verdict<'_>, panicked: bool) {
        let elapsed = self.start.take().map(|start| start.elapsed());
        let timing = Timing {
            seconds: elapsed.map(|d| d.as_secs_f64()),
            span_end: self
                .span_start
                .take()
                .zip(elapsed)
                .and_then(|(start, d)| start.checked_add(d)),
        };
        let cx = self.cx.take();
        let state = self.site.state();
        let recorded = match verdict {
            Verdict::Success if cx.is_none() && timing.seconds.is_none() => false,
            Verdict::Success => {
                // Telemetry must never take the user's function down: a span
                // processor or exporter that panics is contained here too.
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    if let Some(cx) = &cx {
                        timing.end(&cx.span());
                    }
                    self.record_duration(state, timing.seconds, None);
                }));
                false
            }
            Verdict::Failure(failure) => {
                let raised = if panicked {
                    Raised::Panic
                } else {
                    Raised::Error
                };
                // Telemetry must never take the user's function down.
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    self.record_failure(state, cx.as_ref(), timing, &failure, raised)
                }));
                outcome.unwrap_or(true)
            }
            Verdict::Rejected(error_type) => {
                let failure = Failure {
                    error_type,
                    message: None,
                    error: None,
                };
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    self.record_failure(state, cx.as_ref(), timing, &failure, Raised::Nothing)
                }));
                outcome.unwrap_or(false)
            }
        };
        if panicked {
            exception::leave_panic(recorded);
        } else {
            exception::leave(recorded);
        }
    }

    fn record_failure(
        &self,
        state: &'static State,
        cx: Option<&Context>,
        timing: Timing,
        failure: &Failure<'_>,
        raised: Raised,
    ) -> bool {
        let info = &self.site.info;
        let error_type = state.error_types.admit(failure.error_type.clone());
        let span = cx.map(TraceContextExt::span);
        let recording = span.as_ref().is_some_and(|s| s.is_recording());
        // The exception is recorded here unless none was raised (`error_if`),
        // the frame has `log = false`, or a frame below already recorded it.
        let below = match raised {
            Raised::Nothing => false,
            Raised::Error => self.recorded_below,
            // Read before anything else runs on this thread: what the call
            // that the panic came out of left (a new panic is logged even
            // after a recorded error below, e.g. `.unwrap()` on it).
            Raised::Panic => exception::panic_recorded(),
        };
        let sink = info
            .exception
            .filter(|_| raised != Raised::Nothing && !below);
        let message = match failure.message {
            Some(m) if info.description && (recording || sink.is_some()) => {
                Some(exception::bounded_display(m, MESSAGE_LIMIT))
            }
            _ => None,
        };
        let stacktrace = match (sink, raised) {
            (None, _) | (_, Raised::Nothing) => None,
            (Some(_), Raised::Panic) => panic_backtrace(),
            (Some(_), Raised::Error) => failure.error.and_then(exception::source_chain),
        };
        if let Some(span) = span.as_ref().filter(|_| recording) {
            span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.clone()));
            // `logs/dup`: the deprecated span event duplicates the log record,
            // on the same span and under the same rule.
            if state.span_event && sink.is_some() {
                let mut attributes =
                    vec![KeyValue::new(attribute::EXCEPTION_TYPE, error_type.clone())];
                if let Some(m) = &message {
                    attributes.push(KeyValue::new(attribute::EXCEPTION_MESSAGE, m.clone()));
                }
                if let Some(st) = &stacktrace {
                    attributes.push(KeyValue::new(attribute::EXCEPTION_STACKTRACE, st.clone()));
                }
                span.add_event("exception", attributes);
            }
        }
        if let Some(sink) = sink {
            let type_str = error_type.as_str();
            sink(
                &ExceptionRecord {
                    r#type: &type_str,
                    message: message.as_deref(),
                    stacktrace: stacktrace.as_deref(),
                },
                raised == Raised::Panic,
            );
        }
        if let Some(span) = &span {
            if recording {
                // Last use of the message: it moves into the status.
                span.set_status(Status::error(message.unwrap_or_default()));
            }
            timing.end(span);
        }
        self.record_duration(state, timing.seconds, Some(error_type));
        match raised {
            // An `Ok` value ends the chain: an error that a frame returns
            // after it is a new exception.
            Raised::Nothing => false,
            Raised::Error | Raised::Panic => sink.is_some() || below,
        }
    }

    #[inline]
    fn record_duration(&self, state: &State, elapsed: Option<f64>, error_type: Option<Value>) {
        let (Some(histogram), Some(seconds)) = (&state.histogram, elapsed) else {
            return;
        };
        let base = self.site.metric_base();
        match (base, error_type) {
            (Some(b), Some(e)) => histogram.record(seconds, &[b, KeyValue::new(ERROR_TYPE, e)]),
            (Some(b), None) => histogram.record(seconds, &[b]),
            (None, Some(e)) => histogram.record(seconds, &[KeyValue::new(ERROR_TYPE, e)]),
            (None, None) => histogram.record(seconds, &[]),
        }
    }
}

/// What a failure raised, which decides whether it is an exception to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raised {
    /// An `Ok` value that `error_if` rejects: a failure, but no exception.
    Nothing,
    /// An `Err` returned to the caller.
    Error,
    /// A panic unwinding out of the function.
    Panic,
}

impl Drop for Frame {
    /// A frame dropped with its outcome unrecorded was cancelled: end the span
    /// (status Unset, no `error.type`) and record no duration.
    #[inline]
    fn drop(&mut self) {
        if let Some(cx) = self.cx.take() {
            cx.span().end();
        }
    }
}

/// The backtrace at the point where a panic left the instrumented function,
/// when backtraces are enabled (`RUST_BACKTRACE` / `RUST_LIB_BACKTRACE`).
fn panic_backtrace() -> Option<String> {
    let backtrace = std::backtrace::Backtrace::capture();
    match backtrace.status() {
        std::backtrace::BacktraceStatus::Captured => {
            let mut s = backtrace.to_string();
            if s.len() > exception::STACKTRACE_LIMIT {
                let mut cut = exception::STACKTRACE_LIMIT;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            }
            Some(s)
        }
        _ => None,
    }
}
