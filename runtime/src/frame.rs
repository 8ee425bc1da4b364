//! One call of an instrumented function: its span, its clock, and the
//! recording of its outcome.

use std::any::Any;
use std::borrow::Cow;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Instant, SystemTime};

use opentelemetry::trace::{SpanBuilder, SpanRef, Status, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_semantic_conventions::attribute;

use crate::classify::{Failure, Message, Verdict};
use crate::clock;
use crate::entry::{After, Entry, Links, MetricAttributes, Parent, SpanAttributes};
use crate::exception::{self, Below, ExceptionRecord, Pending, MESSAGE_LIMIT};
use crate::site::{CallSite, Info, Kind, State, CODE_FUNCTION_NAME, ERROR_TYPE};

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
    /// `metric_attributes(..)`, for the duration point (`None` without them,
    /// or without a meter).
    metric_attributes: Option<Box<[KeyValue]>>,
    /// This call records nothing at all.
    inert: bool,
    /// The span in `cx` is not this call's own (`span = current`: the
    /// current `tracing` span's): it is marked, not ended.
    borrowed: bool,
    /// The capture this call goes to (feature `testing`).
    #[cfg(feature = "testing")]
    pub(crate) capture: Option<crate::testing::Scope>,
}

impl CallSite {
    /// Starts a call: a span (child of the current context) and the clock.
    ///
    /// `attributes` is evaluated only when the span is recording.
    ///
    /// # Clocks
    ///
    /// The duration is measured with the monotonic clock ([`Instant`]). With
    /// both a tracer and a meter, the span's start time on the wall clock is
    /// derived from the same monotonic reading and a per-thread anchor (a
    /// pair of readings of both clocks, taken again every 100 ms; see
    /// `clock.rs`), given to the SDK, and its end time is that start plus the
    /// measured duration: span and histogram point have exactly the same
    /// duration, and a call reads a clock twice instead of four times (the
    /// four reads were about a fifth of the cost of a recorded call). The
    /// start time is given only when the last span started on this thread was
    /// recording, so sampled-out spans (which need no timestamps) do not pay
    /// for it; otherwise the SDK times the span itself, as without a meter.
    #[inline]
    pub fn start<A, M, P, L>(&'static self, entry: Entry<A, M, P, L>) -> Frame
    where
        A: SpanAttributes,
        M: MetricAttributes,
        P: Parent,
        L: Links,
    {
        let state = self.state();
        #[cfg(feature = "testing")]
        if let Some(capture) = crate::testing::begin(self) {
            return self.start_captured(state, capture, entry);
        }
        if state.is_inert() {
            return Frame::inert(self);
        }
        let (attributes, metric_attributes, parent, links) = entry.into_parts();
        let timed = state.histogram.is_some();
        let start = timed.then(Instant::now);
        let wall = start
            .filter(|_| state.tracer.is_some())
            .and_then(clock::span_start);
        let borrowed = self.info.current_span.then(current_tracing_span).flatten();
        let (cx, span_start, borrowed) = match (borrowed, &state.tracer) {
            // `span = current`: the current `tracing` span gets the
            // attributes (`parent` and `links` belong to a span this call
            // would start).
            (Some(cx), _) => {
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    let span = cx.span();
                    span.set_attributes(metric_attributes.as_slice().iter().cloned());
                    span.set_attributes(attributes.evaluate());
                }));
                (Some(cx), None, true)
            }
            (None, Some(tracer)) => {
                let (cx, span_start) = parent.with(|parent| {
                    self.start_span(
                        tracer,
                        parent,
                        attributes,
                        metric_attributes.as_slice(),
                        links,
                        wall,
                    )
                });
                (cx, span_start, false)
            }
            (None, None) => (None, None, false),
        };
        Frame {
            site: self,
            cx,
            start,
            span_start,
            // Kept for the duration point only.
            metric_attributes: if timed {
                metric_attributes.into_boxed()
            } else {
                None
            },
            inert: false,
            borrowed,
            #[cfg(feature = "testing")]
            capture: None,
        }
    }

    /// [`CallSite::start`] under a capture (feature `testing`): the span is
    /// made from the same builder, with or without a tracer, and wrapped so
    /// that what the runtime sets on it is captured.
    #[cfg(feature = "testing")]
    #[cold]
    #[inline(never)]
    fn start_captured<A, M, P, L>(
        &'static self,
        state: &State,
        capture: crate::testing::Scope,
        entry: Entry<A, M, P, L>,
    ) -> Frame
    where
        A: SpanAttributes,
        M: MetricAttributes,
        P: Parent,
        L: Links,
    {
        let (attributes, metric_attributes, parent, links) = entry.into_parts();
        let timed = state.histogram.is_some();
        let start = timed.then(Instant::now);
        let wall = start.filter(|_| state.tracer.is_some()).map(clock::wall_at);
        let (cx, recording) = parent.with(|parent| {
            capture.start_span(
                state.tracer.as_ref(),
                self.span_builder(metric_attributes.as_slice(), links, wall),
                parent,
                || attributes.evaluate(),
            )
        });
        Frame {
            site: self,
            cx: Some(cx),
            start,
            span_start: wall.filter(|_| recording),
            // Kept for the capture's point too.
            metric_attributes: metric_attributes.into_boxed(),
            inert: false,
            borrowed: false,
            capture: Some(capture),
        }
    }

    /// The span as the SDK is given it: name, kind, start time (`wall`),
    /// links and the attributes known at creation. Always inlined: the
    /// builder is large, and is built in place for the tracer.
    #[inline(always)]
    fn span_builder<L: Links>(
        &'static self,
        metric_attributes: &[KeyValue],
        links: L,
        wall: Option<SystemTime>,
    ) -> SpanBuilder {
        let mut builder = SpanBuilder::from_name(self.info.name).with_kind(self.info.kind.into());
        builder.start_time = wall;
        // `code.function.name` (and the `metric_attributes`) are known at
        // creation, so they are given at creation, where samplers can see
        // them (as the trace API asks). Room for `error.type` too: the
        // vector is not grown on failure, and stays small enough that
        // freeing it on the batch exporter's thread does not contend with
        // the caller's allocations.
        let mut initial = Vec::with_capacity(2 + metric_attributes.len());
        initial.push(KeyValue::new(CODE_FUNCTION_NAME, self.info.function));
        if !metric_attributes.is_empty() {
            initial.extend_from_slice(metric_attributes);
        }
        builder.attributes = Some(initial);
        links.set_on(&mut builder);
        builder
    }

    /// The span, child of `parent`, started at `wall` when given; returns its
    /// context and, when it records, `wall`.
    #[inline]
    fn start_span<A: SpanAttributes, L: Links>(
        &'static self,
        tracer: &opentelemetry::global::BoxedTracer,
        parent: &Context,
        attributes: A,
        metric_attributes: &[KeyValue],
        links: L,
        wall: Option<SystemTime>,
    ) -> (Option<Context>, Option<SystemTime>) {
        let builder = self.span_builder(metric_attributes, links, wall);
        let mut span = tracer.build_with_context(builder, parent);
        let recording = opentelemetry::trace::Span::is_recording(&span);
        clock::set_last_span_recorded(recording);
        if !recording {
            // Sampled out: only its span context matters (children and
            // propagators read the trace id and the not-sampled flag), so
            // the context carries just that. The SDK's span is dropped
            // now; it records nothing and exports nothing either way.
            let span_context = opentelemetry::trace::Span::span_context(&span).clone();
            return (Some(parent.with_remote_span_context(span_context)), None);
        }
        opentelemetry::trace::Span::set_attributes(&mut span, attributes.evaluate());
        (Some(parent.with_span(span)), wall)
    }
}

/// `span = current`: the OpenTelemetry context of the current `tracing`
/// span, when one is current and tracing-opentelemetry's layer records it.
#[cfg(feature = "tracing-opentelemetry")]
fn current_tracing_span() -> Option<Context> {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    catch_unwind(|| {
        let span = tracing::Span::current();
        if span.is_none() {
            return None;
        }
        let cx = span.context();
        let recording = cx.has_active_span() && cx.span().is_recording();
        recording.then_some(cx)
    })
    .ok()
    .flatten()
}

/// Without the feature, `span = current` does not compile.
#[cfg(not(feature = "tracing-opentelemetry"))]
#[inline(always)]
fn current_tracing_span() -> Option<Context> {
    None
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
            metric_attributes: None,
            inert: true,
            borrowed: false,
            #[cfg(feature = "testing")]
            capture: None,
        }
    }

    /// Ends the span, at this call's end time, unless it is not this call's.
    #[inline]
    fn end(&self, timing: Timing, span: &SpanRef<'_>) {
        if !self.borrowed {
            timing.end(span);
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
    /// the returned value is classified by `classify`, handed to `after`
    /// (`result_attributes`, a protocol flag's status; see [`After`]) and
    /// recorded.
    #[inline]
    pub fn run<R, B, C, H>(mut self, body: B, classify: C, after: H) -> R
    where
        B: FnOnce() -> R,
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
        H: FnOnce(&R, &mut After<'_>),
    {
        if self.is_inert() {
            // An inert frame owns nothing: skip its destructor.
            std::mem::forget(self);
            return body();
        }
        let guard = self.cx.clone().map(Context::attach);
        let outermost = exception::enter(Below::Nothing).is_outside();
        let result = catch_unwind(AssertUnwindSafe(body));
        // What the last instrumented call inside left (see `crate::exception`).
        let below = exception::exchange(Below::Nothing);
        match result {
            Ok(out) => {
                self.complete(&out, classify, after, below, outermost);
                // Finished: it holds nothing left to end or emit.
                std::mem::forget(self);
                drop(guard);
                out
            }
            Err(payload) => {
                self.finish_panic(&*payload, below, outermost);
                drop(guard);
                resume_unwind(payload)
            }
        }
    }

    /// Records a returned value: classifies it, hands it to the after-call
    /// closure, and finishes the call.
    #[inline]
    pub(crate) fn complete<R, C, H>(
        &mut self,
        out: &R,
        classify: C,
        after: H,
        below: Below,
        outermost: bool,
    ) where
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
        H: FnOnce(&R, &mut After<'_>),
    {
        let verdict = classify_contained(classify, out);
        let mut hooks = After::new(self);
        // The user's `result_attributes` code is contained in `After`; the
        // expansion's own code around it cannot panic.
        after(out, &mut hooks);
        let status = hooks.status;
        self.finish(verdict, below, None, outermost, status.as_ref());
    }

    /// Records a panic that is unwinding out of this call.
    #[cold]
    pub(crate) fn finish_panic(
        &mut self,
        payload: &(dyn Any + Send),
        below: Below,
        outermost: bool,
    ) {
        let message = exception::panic_message(payload);
        let message = message.as_ref().map(|m| Message::Display(m));
        // Where it panicked, as the panic hook saw it (see `crate::panic_hook`).
        let trace = crate::panic_hook::take_for(payload);
        self.finish(
            Verdict::Failure(Failure {
                error_type: Cow::Borrowed(PANIC),
                message,
                error: None,
            }),
            below,
            Some(trace),
            outermost,
            None,
        );
    }

    /// Records the outcome: span status and `error.type`, the exception log
    /// record, the end of the span and the duration. Leaves for the enclosing
    /// frame what became of an exception (see [`crate::exception`]), given
    /// what the last instrumented call inside left (`below`); `panicked`: a
    /// panic is unwinding out of this call, with the stack trace the panic
    /// hook noted for it, if any; `outermost`: no instrumented frame encloses
    /// this one on this thread.
    pub(crate) fn finish(
        &mut self,
        verdict: Verdict<'_>,
        below: Below,
        panicked: Option<Option<String>>,
        outermost: bool,
        status: Option<&KeyValue>,
    ) {
        self.finish_inner(verdict, below, panicked, outermost, status);
        // A finished frame is forgotten: free the `metric_attributes` now.
        if self.metric_attributes.is_some() {
            self.metric_attributes = None;
        }
    }

    #[inline(always)]
    fn finish_inner(
        &mut self,
        verdict: Verdict<'_>,
        below: Below,
        panicked: Option<Option<String>>,
        outermost: bool,
        metric: Option<&KeyValue>,
    ) {
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
        let outcome = match verdict {
            Verdict::Success if cx.is_none() && timing.seconds.is_none() => {
                below.handled();
                exception::leave(Below::Nothing, outermost);
                return;
            }
            Verdict::Success => {
                // Telemetry must never take the user's function down: a span
                // processor or exporter that panics is contained here too.
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    if let Some(cx) = &cx {
                        self.end(timing, &cx.span());
                    }
                    self.record_duration(state, timing.seconds, None, metric);
                }));
                // Returning normally handles what a call inside left.
                below.handled();
                exception::leave(Below::Nothing, outermost);
                return;
            }
            Verdict::Failure(failure) => {
                let raised = if panicked.is_some() {
                    Raised::Panic
                } else {
                    Raised::Error
                };
                let trace = panicked.flatten();
                // Telemetry must never take the user's function down.
                let ends = outermost || self.ends_exceptions();
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    self.record_failure(
                        state,
                        cx.as_ref(),
                        (timing, metric),
                        &failure,
                        (raised, trace),
                        below,
                        ends,
                    )
                }));
                match outcome {
                    // Outermost or at a server or consumer operation, the
                    // fate of a record that came up is known.
                    Ok(pending @ Below::Pending(_)) if ends => {
                        pending.handled();
                        Below::Emitted
                    }
                    Ok(outcome) => outcome,
                    Err(_) if raised == Raised::Panic => Below::Panic,
                    Err(_) => Below::Emitted,
                }
            }
            Verdict::Rejected(error_type) => {
                let failure = Failure {
                    error_type,
                    message: None,
                    error: None,
                };
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    self.record_failure(
                        state,
                        cx.as_ref(),
                        (timing, metric),
                        &failure,
                        (Raised::Nothing, None),
                        below,
                        false,
                    )
                }));
                outcome.unwrap_or_default()
            }
            Verdict::Handled(failure) => {
                let _ = catch_unwind(AssertUnwindSafe(|| {
                    self.record_handled(state, cx.as_ref(), (timing, metric), &failure, below);
                }));
                Below::Nothing
            }
        };
        exception::leave(outcome, outermost);
    }

    /// Whether an exception escaping this operation ends here, unhandled, at
    /// `ERROR` (unless `log_level` says otherwise): a `server` or `consumer`
    /// operation that logs.
    fn ends_exceptions(&self) -> bool {
        let info = &self.site.info;
        info.exception.is_some() && matches!(info.kind, Kind::Server | Kind::Consumer)
    }

    #[allow(clippy::too_many_arguments)]
    fn record_failure(
        &self,
        state: &'static State,
        cx: Option<&Context>,
        (timing, metric): (Timing, Option<&KeyValue>),
        failure: &Failure<'_>,
        (raised, trace): (Raised, Option<String>),
        below: Below,
        ends_here: bool,
    ) -> Below {
        let info = &self.site.info;
        let error_type = state.error_types.admit_str(failure.error_type.clone());
        let span = cx.map(TraceContextExt::span);
        let recording = span.as_ref().is_some_and(|s| s.is_recording());
        // What became of the exception: a new record here (`sink`), or what
        // came up from below, escalated to this operation's severity.
        let (sink, outcome) = match (raised, below) {
            // An `Ok` value that `error_if` rejects: no exception, and what a
            // call inside left was handled.
            (Raised::Nothing, below) => {
                below.handled();
                (None, Below::Nothing)
            }
            // The same exception, converted or not: it escapes this frame too.
            (Raised::Error, Below::Pending(mut pending)) => {
                if let Some(sink) = info.exception {
                    pending.level = exception::most_severe(pending.level, sink.level);
                }
                (None, Below::Pending(pending))
            }
            (Raised::Error, Below::Emitted | Below::Panic) => (None, Below::Emitted),
            (Raised::Error, Below::Nothing | Below::Outside) => (info.exception, Below::Nothing),
            // A panic logged below keeps unwinding: the same exception.
            (Raised::Panic, Below::Panic) => (None, Below::Panic),
            // A new panic (possibly raised on an error below: `.unwrap()`).
            (Raised::Panic, below) => {
                below.handled();
                (info.exception, Below::Nothing)
            }
        };
        let mut message = match failure.message {
            Some(m) if info.description && (recording || sink.is_some()) => {
                Some(exception::bounded_display(&m, MESSAGE_LIMIT))
            }
            _ => None,
        };
        let stacktrace = match (sink, raised) {
            (None, _) | (_, Raised::Nothing) => None,
            (Some(_), Raised::Panic) => trace.or_else(crate::panic_hook::backtrace_here),
            (Some(_), Raised::Error) => failure.error.and_then(exception::source_chain),
        };
        // The SDK's calls are contained one by one: `outcome` may own a
        // pending record, which a panic unwinding out of here would lose.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Some(span) = span.as_ref().filter(|_| recording) {
                span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
                if state.span_event && sink.is_some() {
                    add_span_event(span, error_type, message.as_deref(), stacktrace.as_deref());
                }
            }
        }));
        let outcome = match sink {
            None => outcome,
            Some(sink) if raised == Raised::Panic => {
                let record = sink_record(info, error_type, &message, &stacktrace);
                (sink.emit)(&record, tracing::Level::ERROR);
                Below::Panic
            }
            // Its fate is known already: no need to wait, nor to copy.
            Some(sink) if ends_here => {
                let record = sink_record(info, error_type, &message, &stacktrace);
                (sink.emit)(&record, sink.level);
                Below::Emitted
            }
            Some(sink) => {
                // The record waits for its fate; it owns what it needs. The
                // status below still needs the message.
                let pending = Box::new(Pending {
                    sink,
                    level: sink.level,
                    error_type: Cow::Borrowed(error_type),
                    message: if recording {
                        message.clone()
                    } else {
                        message.take()
                    },
                    stacktrace,
                    name: info.name,
                    function: info.function,
                    span_context: Context::map_current(|cx| cx.span().span_context().clone()),
                    #[cfg(feature = "testing")]
                    capture: self.capture.clone(),
                });
                Below::pending(pending)
            }
        };
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Some(span) = &span {
                if recording {
                    span.set_status(Status::error(message.unwrap_or_default()));
                }
                self.end(timing, span);
            }
            self.record_duration(state, timing.seconds, Some(Value::from(error_type)), metric);
        }));
        outcome
    }

    /// An error that `ok_if` accepts: no failure (status Unset, no
    /// `error.type`), the `handled_attribute`, and one `DEBUG` record, unless
    /// the error came up from a call inside whose record is pending (then
    /// that record, the same exception, is emitted now) or already emitted.
    fn record_handled(
        &self,
        state: &'static State,
        cx: Option<&Context>,
        (timing, metric): (Timing, Option<&KeyValue>),
        failure: &Failure<'_>,
        below: Below,
    ) {
        let info = &self.site.info;
        let span = cx.map(TraceContextExt::span);
        let recording = span.as_ref().is_some_and(|s| s.is_recording());
        let (sink, below) = match below {
            // Not formatted when no subscriber can take a `DEBUG` event
            // (unless `logs/dup` wants the span event).
            Below::Nothing | Below::Outside => (
                info.exception.filter(|_| {
                    crate::event::level_enabled(tracing::Level::DEBUG)
                        || (recording && state.span_event)
                        || self.is_captured()
                }),
                Below::Nothing,
            ),
            // The error came up from a call inside whose record waits: its
            // fate is now known, handled. Emitted below, at `DEBUG`.
            pending @ Below::Pending(_) if info.exception.is_some() => (None, pending),
            // Already emitted (it escaped a server first), or this frame
            // logs nothing (`log = false`): as it stands.
            below => {
                below.handled();
                (None, Below::Nothing)
            }
        };
        if recording || sink.is_some() || matches!(below, Below::Pending(_)) {
            let error_type = state.error_types.admit_str(failure.error_type.clone());
            let handled = info.handled_attribute.map(|_| error_type);
            if let (Below::Pending(pending), Some(sink)) = (below, info.exception) {
                // One record for the exception: the callee's (its
                // `exception.*`, `code.function.name` and span), as this
                // operation's `DEBUG` event, with its `handled_attribute`.
                std::mem::ManuallyDrop::into_inner(pending).emit_handled(sink, info.name, handled);
            }
            if let (Some(span), Some(key)) =
                (span.as_ref().filter(|_| recording), info.handled_attribute)
            {
                span.set_attribute(KeyValue::new(key, error_type));
            }
            if let Some(sink) = sink {
                let message = match failure.message {
                    Some(m) if info.description => {
                        Some(exception::bounded_display(&m, MESSAGE_LIMIT))
                    }
                    _ => None,
                };
                let stacktrace = failure.error.and_then(exception::source_chain);
                if let Some(span) = span.as_ref().filter(|_| recording && state.span_event) {
                    add_span_event(span, error_type, message.as_deref(), stacktrace.as_deref());
                }
                let mut record = sink_record(info, error_type, &message, &stacktrace);
                record.handled = handled;
                (sink.emit)(&record, tracing::Level::DEBUG);
            }
        }
        if let Some(span) = &span {
            self.end(timing, span);
        }
        self.record_duration(state, timing.seconds, None, metric);
    }

    /// The duration point: `code.function.name` on the default metric,
    /// `error.type`, and the `metric_attributes(..)` and a protocol `status`
    /// when there are any.
    #[inline]
    fn record_duration(
        &self,
        state: &State,
        elapsed: Option<f64>,
        error_type: Option<Value>,
        status: Option<&KeyValue>,
    ) {
        #[cfg(feature = "testing")]
        if self.capture.is_some() {
            return self.record_duration_captured(state, elapsed, error_type, status);
        }
        let (Some(histogram), Some(seconds)) = (&state.histogram, elapsed) else {
            return;
        };
        if self.metric_attributes.is_some() || status.is_some() {
            return self.record_duration_with(histogram, seconds, error_type, status);
        }
        let base = self.site.metric_base();
        match (base, error_type) {
            (Some(b), Some(e)) => histogram.record(seconds, &[b, KeyValue::new(ERROR_TYPE, e)]),
            (Some(b), None) => histogram.record(seconds, &[b]),
            (None, Some(e)) => histogram.record(seconds, &[KeyValue::new(ERROR_TYPE, e)]),
            (None, None) => histogram.record(seconds, &[]),
        }
    }

    /// [`Frame::record_duration`] with `metric_attributes` or a status.
    #[cold]
    #[inline(never)]
    fn record_duration_with(
        &self,
        histogram: &opentelemetry::metrics::Histogram<f64>,
        seconds: f64,
        error_type: Option<Value>,
        status: Option<&KeyValue>,
    ) {
        self.point_attributes(error_type, status, |attributes| {
            histogram.record(seconds, attributes);
        });
    }

    /// [`Frame::record_duration`] of a captured call (feature `testing`):
    /// the capture and the histogram, if any, get the same attributes.
    #[cfg(feature = "testing")]
    #[cold]
    #[inline(never)]
    fn record_duration_captured(
        &self,
        state: &State,
        elapsed: Option<f64>,
        error_type: Option<Value>,
        status: Option<&KeyValue>,
    ) {
        let point = state.histogram.as_ref().zip(elapsed);
        self.point_attributes(error_type, status, |attributes| {
            if let Some(capture) = &self.capture {
                capture.metric(self.site.info.metric_name(), attributes);
            }
            if let Some((histogram, seconds)) = point {
                histogram.record(seconds, attributes);
            }
        });
    }

    /// The duration point's attributes, in the order the histogram gets
    /// them (the same as [`Frame::record_duration`]'s fast path): the
    /// `metric_attributes(..)`, `code.function.name` on the default metric,
    /// the status, `error.type`.
    #[inline(always)]
    fn point_attributes(
        &self,
        error_type: Option<Value>,
        status: Option<&KeyValue>,
        record: impl FnOnce(&[KeyValue]),
    ) {
        let base = self.site.metric_base();
        let error_type = error_type.map(|e| KeyValue::new(ERROR_TYPE, e));
        let Some(given) = self.metric_attributes.as_deref() else {
            // A status alone: no allocation.
            let status = status.cloned();
            match (base, status, error_type) {
                (None, None, None) => record(&[]),
                (Some(a), None, None) | (None, Some(a), None) | (None, None, Some(a)) => {
                    record(&[a]);
                }
                (Some(a), Some(b), None) | (Some(a), None, Some(b)) | (None, Some(a), Some(b)) => {
                    record(&[a, b]);
                }
                (Some(a), Some(b), Some(c)) => record(&[a, b, c]),
            }
            return;
        };
        let mut attributes = Vec::with_capacity(given.len() + 3);
        attributes.extend_from_slice(given);
        attributes.extend(base);
        attributes.extend(status.cloned());
        attributes.extend(error_type);
        record(&attributes);
    }

    /// Whether this call is captured (feature `testing`).
    #[inline(always)]
    fn is_captured(&self) -> bool {
        #[cfg(feature = "testing")]
        return self.capture.is_some();
        #[cfg(not(feature = "testing"))]
        false
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
            if !self.borrowed {
                cx.span().end();
            }
        }
    }
}

/// The record of an exception raised here.
fn sink_record<'a>(
    info: &'a Info,
    error_type: &'a str,
    message: &'a Option<String>,
    stacktrace: &'a Option<String>,
) -> ExceptionRecord<'a> {
    ExceptionRecord {
        name: info.name,
        r#type: error_type,
        message: message.as_deref(),
        stacktrace: stacktrace.as_deref(),
        function: info.function,
        handled: None,
        event: info.name,
    }
}

/// `logs/dup`: the deprecated span event duplicates the log record, on the
/// span of the frame the exception escaped first.
fn add_span_event(
    span: &SpanRef<'_>,
    error_type: &'static str,
    message: Option<&str>,
    stacktrace: Option<&str>,
) {
    let mut attributes = vec![KeyValue::new(attribute::EXCEPTION_TYPE, error_type)];
    if let Some(m) = message {
        attributes.push(KeyValue::new(attribute::EXCEPTION_MESSAGE, m.to_owned()));
    }
    if let Some(st) = stacktrace {
        attributes.push(KeyValue::new(
            attribute::EXCEPTION_STACKTRACE,
            st.to_owned(),
        ));
    }
    span.add_event("exception", attributes);
}
