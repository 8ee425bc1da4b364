//! Exceptions as log records, recorded once, when their fate is known.
//!
//! # The emission path
//!
//! OpenTelemetry's Logs API is, in Rust, a bridge API that libraries are not
//! meant to call. So when an instrumented call fails with an exception, the
//! runtime emits one [`tracing`](https://docs.rs/tracing) event, and the application decides where it
//! goes:
//!
//! 1. the event is emitted **with the span of the operation the exception
//!    escaped first as the current OpenTelemetry `Context`**: while that
//!    operation finishes, or later (see [when](#when-the-record-is-emitted))
//!    with that span's context attached again for the emission;
//! 2. the event is an **explicit root** (`tracing::event!(parent: None, ..)`):
//!    layers that attach events to the current `tracing` span leave it alone.
//!    tracing-opentelemetry's layer, at its default settings, would otherwise
//!    copy it onto the enclosing `tracing` span as a span event and, at
//!    `ERROR`, set that span's status to Error; with the attribute beside
//!    `#[tracing::instrument]` or `.instrument(span)`, those spans are left as
//!    they are;
//! 3. `opentelemetry-appender-tracing`'s `OpenTelemetryTracingBridge` layer
//!    turns it into a log record: the event's name becomes the record's event
//!    name, its fields become attributes, its level the severity (`TRACE` 1,
//!    `DEBUG` 5, `INFO` 9, `WARN` 13, `ERROR` 17), its target (the module of
//!    the instrumented function) the record's target;
//! 4. the SDK's logger stamps the record with the trace id and span id of the
//!    current OpenTelemetry context: the span of the operation the exception
//!    escaped first.
//!
//! Any other subscriber sees the same event (`tracing_subscriber::fmt` prints
//! it, with no `tracing` span prefix since it is a root: `code.function.name`
//! says where it came from); without a subscriber it costs a check and goes
//! nowhere. The crate re-exports [`tracing`](https://docs.rs/tracing) so that an application can
//! install a subscriber without naming the dependency itself.
//!
//! Without OpenTelemetry providers (both globals no-op at a function's first
//! call) but with a global `tracing` subscriber already set then, the
//! function still emits its exception events, under the same rules, with no
//! span to tie them to: a console subscriber shows escaped errors, once. With
//! neither, the function records nothing (see
//! [Providers](crate#providers)).
//!
//! # The record
//!
//! * Event name `<span name>.exception`, as the conventions recommend, of the
//!   operation the exception escaped first (of the caller, for an error a
//!   caller's `ok_if` accepts: see [fates](#fates-and-severities)).
//! * Message (the log record's body, what `tracing_subscriber::fmt` prints
//!   first): `<span name> failed: <exception.message>`, e.g. `store.get
//!   failed: connection refused`, with the span name of the operation the
//!   exception escaped first; `<span name> failed: <exception.type>` when
//!   there is no message (`description = false`, no `Display`). It is
//!   formatted by the subscriber that reads it, from the parts below, which
//!   stay as they are.
//! * `exception.type`: the same value as that span's and metric point's
//!   `error.type` (after the [`ERROR_TYPE_LIMIT`](crate::ERROR_TYPE_LIMIT)),
//!   `"panic"` for a panic.
//! * `exception.message`: the error's `Display`, or the panic's message, at
//!   most [`MESSAGE_LIMIT`] bytes (a longer one is cut at a character
//!   boundary and ends with `… [cut at 4096 bytes]`; no more of the error is
//!   formatted than that). Absent with `description = false` (the
//!   message may be sensitive), for an error type without `Display`, and for
//!   a panic whose payload is not a string.
//! * `exception.stacktrace`, when there is one. Rust errors carry no stack
//!   trace; what tells their cause is the `source()` chain, so for an error
//!   that implements `std::error::Error` it is that chain, one line per level
//!   (`caused by (0): <Display of source()>`, `caused by (1): …`), at most
//!   [`SOURCE_DEPTH_LIMIT`] levels (then `… [cut at 32 levels]`) and
//!   [`STACKTRACE_LIMIT`] bytes (then `… [cut at N bytes]`); absent when the
//!   error has no source. For a panic it is where the panic happened,
//!   `panicked at src/web.rs:195:9`, even with backtraces off, followed, when
//!   backtraces are enabled (`RUST_LIB_BACKTRACE` / `RUST_BACKTRACE`), by the
//!   backtrace from the panicking frame (frame 0 is the function that
//!   panicked; no frames of this crate, of std's panic machinery or of
//!   `catch_unwind`). Both come from the panic hook this crate installs once;
//!   its rules (the hook it replaced still runs; never a stale location; an
//!   application that replaces the hook later) are in
//!   [Panics](#panics-the-hook). `code.*` attributes stay those of the
//!   instrumented function.
//! * `code.function.name`: the function the exception escaped first.
//! * On the record of a handled error, the operation's `handled_attribute`
//!   (below).
//!
//! The message and the stack trace are formatted in the frame the exception
//! escaped first, where the error value exists; the record then owns them.
//!
//! # Severity
//!
//! Each instrumented frame has a severity for an exception escaping it:
//! `log_level = trace | debug | info | warn | error` when given, else `WARN`
//! for an `internal`, `client` or `producer` operation (the caller is
//! expected to handle the error) and `ERROR` for a `server` or `consumer`
//! operation. The record takes the **highest severity of the frames the
//! exception escaped** (a frame with `log = false` does not count). A store
//! timeout that an internal function returns and a `kind = server` handler
//! turns into a 500 is one record at `ERROR`, tied to the store function's
//! span; the same timeout handled by the caller is one record at `WARN`.
//!
//! * A panic: `ERROR`, whatever `log_level` says (a panic is unhandled),
//!   emitted as it leaves the innermost frame.
//! * An `Err` that `ok_if` accepts: `DEBUG` (below).
//! * `log = false`: no record from this frame (its span and metric still
//!   record the failure); an error that escapes it from a frame below keeps
//!   its record, not raised by this frame's level.
//!
//! # Fates and severities
//!
//! | the exception's fate | the record | severity |
//! |---|---|---|
//! | an `Err` that the function's own `ok_if` accepts | its own, with its `handled_attribute` | `DEBUG` |
//! | an `Err` escaping to a caller whose `ok_if` accepts it (through any frames returning it with `?`/conversions) | **one**: the exception of the function it escaped first (`exception.*`, `code.function.name`, tied to that span), as the accepting caller's event (`<caller>.exception`) with the caller's `handled_attribute` if it has one | `DEBUG` |
//! | recovered in plain code: a caller returns `Ok` (or an `Ok` value `error_if` rejects), or goes on to make another instrumented call | the function's it escaped first | the highest severity reached so far: `WARN` for internal, client and producer frames |
//! | escapes a `server` or `consumer` operation (that logs) | the function's it escaped first | `ERROR` (or that operation's `log_level` if higher) |
//! | escapes the outermost instrumented call of the thread or task | the function's it escaped first | the highest severity reached |
//! | a cancelled future still holding a record from a call inside it | that record | the severity reached |
//! | a panic | the innermost frame's it unwinds out of | `ERROR` |
//! | an `Ok` value `error_if` rejects | none (not an exception) | — |
//! | `log = false` | none from this frame | — |
//!
//! A record already emitted (the error escaped a server first) stays as it
//! was when a caller then accepts the error with `ok_if`. A caller with
//! `log = false` that accepts a pending error lets it be emitted as a plain
//! recovery (at the severity reached).
//!
//! # When the record is emitted
//!
//! An exception's record is emitted when its fate is known (the cases
//! below). `opentelemetry-appender-tracing` sets no `Timestamp` on the log
//! record: the SDK stamps its `ObservedTimestamp` as it is emitted, so that
//! is the moment the fate became known (a caller returning, a server
//! operation ending), after the failure itself; the failure's own time is
//! the end of the span the record is tied to.
//!
//!
//! * **handled by a caller**: an enclosing instrumented call returns `Ok` (or
//!   an `Ok` value `error_if` rejects, or an error its `ok_if` accepts), or
//!   goes on to make another instrumented call: emitted then, at the severity
//!   reached so far;
//! * **escapes a `server` or `consumer` operation** (one that logs): emitted
//!   there, at `ERROR` unless its `log_level` says otherwise;
//! * **escapes the outermost instrumented call** on the thread (or the
//!   outermost instrumented future of a task): emitted there;
//! * **its frame is dropped early** (a cancelled future holding a record from
//!   a call inside it): emitted at the drop, at the severity reached so far.
//!
//! Until then the record waits, one at most per frame, in the frame that
//! holds it, and travels as the rule for "once" below does. A record waiting
//! costs one allocation (plus its strings), made only on failure; the
//! success path allocates nothing for it.
//!
//! # What is an exception
//!
//! An `Err` that `ok_if` does not accept, and a panic. Not an exception: an
//! `Ok` value, including one that `error_if` rejects (the span and the metric
//! record that failure, but nothing was raised, so nothing is logged).
//!
//! An `Err` that `ok_if` accepts is **handled**: not a failure (status Unset,
//! no `error.type` on the span or the metric point), but, as the conventions'
//! example logs its `ResourceAlreadyExistsException`, one record at `DEBUG`
//! with the same event name and `exception.*` attributes, emitted as the
//! function returns (`log = false` turns it off). With `handled_attribute =
//! "acme.resource.create.status"`, the span and the record get that attribute
//! set to the error's `error.type` (`already_exists`). If the handled error
//! came up from an instrumented call below, whose record waits, that record
//! (the same exception) is emitted instead, at `DEBUG`, as this operation's
//! event with its `handled_attribute` (see [fates](#fates-and-severities)).
//!
//! # The rule for "once"
//!
//! An exception is recorded by the innermost instrumented frame it escapes
//! from. Every frame remembers what the *last* instrumented call made
//! directly inside it that finished left behind (on the same thread while its
//! body, or one poll of its future, runs; the memory travels with the future
//! between polls and threads): nothing, an exception already recorded, or a
//! record waiting for its fate. When the frame itself then returns an `Err`,
//! it is the exception that came up from below, whether it was returned
//! unchanged (`?`) or converted (`map_err`, `From` via `?`, or a caught panic
//! turned into an `Err`) — a conversion names the same failure in the
//! caller's terms, so it counts as the same exception: the waiting record
//! goes on waiting, at this frame's severity if higher, and the frame does not
//! make a record of its own. The frame's span still gets status `Error` and
//! `error.type`, and its metric point carries `error.type`.
//!
//! A panic is logged by the innermost instrumented frame it unwinds out of,
//! and not again by the frames it then unwinds through. A panic raised on an
//! error that a frame below left (`.unwrap()`, `.expect(..)`) is a new
//! exception: that error's record is emitted (handled, in a way), then the
//! panic's (at `ERROR`, with the panic's message and backtrace).
//!
//! A child that succeeded, whose error was handled (`ok_if`), or that
//! returned an `Ok` value `error_if` rejects resets the memory, so a frame
//! that fails after such a call logs its own error. A child with
//! `log = false` recorded nothing, so the frame that returns its error logs
//! it, tied to that frame's span.
//!
//! Limits, all of them cases where the runtime cannot see what the code did
//! with an error:
//! * a frame that handles a child's error by hand and then fails with a new
//!   `Err` before any other instrumented call finishes does not log the new
//!   error: the child's record stands for it, escalated as the new error
//!   escapes;
//! * with several children in flight at once (`join!`, `select!`), a child
//!   polled after another one failed counts as "another instrumented call":
//!   the failed child's record is emitted then, at the severity reached so
//!   far, not raised by the frames its error may still escape; and "last" is
//!   the child that finished last, so if it succeeded and the frame returns
//!   another child's error, that error is logged again by the frame;
//! * a child run on another task or thread (`spawn`, `spawn_blocking`) is not
//!   seen: its record is emitted when it escapes the task's outermost
//!   instrumented call (at the severity reached in that task), and an error
//!   the frame then returns from its `JoinHandle` is logged again. A
//!   cancelled child (dropped before it finished) changes nothing, except
//!   that a record it held is emitted.
//!
//! The memory is one small value per thread and one per frame; a record
//! waiting in it is owned by the frame (or the thread, between a child's end
//! and its caller's next step) and is emitted or handed on, never dropped, so
//! nothing is lost and nothing leaks.
//!
//! # Panics: the hook
//!
//! `catch_unwind` gives the instrumented frame only the panic's payload; the
//! location and the stack at the panic are seen by the panic hook alone. The
//! crate installs one, **once per process, at the first call of an
//! instrumented function** (before its body runs), and never while that
//! thread is panicking (`std::panic::set_hook` would panic then; a later
//! first call installs it). It calls the hook it replaced (`take_hook`: std's
//! default one, or the application's) for every panic, with the same
//! information, so what the process prints does not change and the
//! application's hook still runs and sees every panic.
//!
//! For a panic raised while an instrumented call runs on the thread, the
//! hook notes its location (and the backtrace, when enabled) in a
//! thread-local, with the payload it belongs to (the address and length of
//! the `&str`/`String` message); the frame the panic unwinds out of takes
//! that note only for that payload. A panic re-raised with
//! `std::panic::resume_unwind` (which does not run the hook) with another
//! payload, or a panic after one caught elsewhere, never gets a stale
//! location: it gets none. A payload that is not a string (`panic_any(7)`)
//! gets none either.
//!
//! **An application that replaces the hook later** (`set_hook` after the
//! first instrumented call, without calling the hook `take_hook` returned)
//! removes this one: panics are still recorded (status `Error`, `error.type`
//! `"panic"`, the message) but without location; with backtraces enabled,
//! the stack trace is then the backtrace where the panic left the
//! instrumented function, without this crate's frames. A hook set before the
//! first instrumented call, or one that chains, keeps both running. A
//! `#[track_caller]` function's panic has no note either (its frame sees no
//! payload).
//!
//! # `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`
//!
//! With `logs/dup` in this variable (read once per process, at the first
//! call of any instrumented function), the frame that makes the log record
//! also adds the deprecated span event `exception` to its span (the span the
//! exception escaped first), with `exception.type`, `exception.message` and
//! `exception.stacktrace` as in the record: the event duplicates the record,
//! under the same rule and switches (`log = false` turns both off). Unset, or
//! `logs`: log records only.

use std::borrow::Cow;
use std::cell::Cell;
use std::error::Error;
use std::fmt::{self, Display, Write as _};
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};

use opentelemetry::trace::{SpanContext, TraceContextExt as _};
use opentelemetry::Context;
use tracing::Level;

use crate::site::ExceptionSink;

/// The longest status description or `exception.message` recorded, in bytes;
/// longer messages are cut at a character boundary and end with a marker
/// that says so and where: `… [cut at 4096 bytes]` (the bytes kept).
pub const MESSAGE_LIMIT: usize = 4096;

/// The longest `exception.stacktrace` recorded, in bytes, before the marker
/// `… [cut at N bytes]` that ends a cut one.
pub const STACKTRACE_LIMIT: usize = 16 * 1024;

/// How many `source()` levels are followed (a cyclic chain stops here).
pub const SOURCE_DEPTH_LIMIT: usize = 32;

/// One exception, as handed to the `tracing` event.
#[derive(Debug, Clone, Copy)]
pub struct ExceptionRecord<'a> {
    /// The span name of the operation the exception escaped first: the
    /// event's message is `<name> failed: <exception.message>` (or
    /// `<name> failed: <exception.type>` without a message).
    pub name: &'a str,
    /// `exception.type`: the same value as `error.type`.
    pub r#type: &'a str,
    /// `exception.message`, absent with `description = false`.
    pub message: Option<&'a str>,
    /// `exception.stacktrace`: a panic's backtrace, or an error's `source()` chain.
    pub stacktrace: Option<&'a str>,
    /// `code.function.name` of the function the exception escaped first.
    pub function: &'a str,
    /// The value of the operation's `handled_attribute`, on the record of a
    /// handled error.
    pub handled: Option<&'a str>,
    /// The span name the event is named after, `<event>.exception`: `name`,
    /// or for an error a caller's `ok_if` accepted, that caller's. It differs
    /// from the name the event's callsite was compiled with only for a method
    /// annotated on its own, whose span name (`Type::method`) is completed at
    /// run time.
    pub event: &'a str,
}

/// The most severe of two levels (`tracing` orders `ERROR` lowest).
#[inline]
pub(crate) fn most_severe(a: Level, b: Level) -> Level {
    if a < b {
        a
    } else {
        b
    }
}

/// The exception record of an error whose fate is not known yet: it owns
/// everything it needs, since the error value is gone when it is emitted.
#[derive(Debug)]
pub(crate) struct Pending {
    /// The sink of the frame the error escaped first (its event name).
    pub(crate) sink: ExceptionSink,
    /// The severity reached so far.
    pub(crate) level: Level,
    /// `exception.type`, after the cardinality limit.
    pub(crate) error_type: Cow<'static, str>,
    /// `exception.message`, bounded.
    pub(crate) message: Option<String>,
    /// `exception.stacktrace`, bounded.
    pub(crate) stacktrace: Option<String>,
    /// The span name of the frame the error escaped first.
    pub(crate) name: &'static str,
    /// `code.function.name` of the frame the error escaped first.
    pub(crate) function: &'static str,
    /// The span context current in that frame: the record is tied to it.
    pub(crate) span_context: SpanContext,
    /// The capture of that frame (feature `testing`).
    #[cfg(feature = "testing")]
    pub(crate) capture: Option<crate::testing::Scope>,
}

impl Pending {
    /// Emits the record at the severity reached so far, with the span
    /// context of the frame it escaped first attached, so that the SDK ties
    /// the log record to that span. A subscriber that panics is contained.
    #[cold]
    #[inline(never)]
    // Taken as it is held, boxed, so that it is freed here.
    #[allow(clippy::boxed_local)]
    pub(crate) fn emit(self: Box<Self>) {
        let (sink, level, name) = (self.sink, self.level, self.name);
        self.emit_as(sink, name, level, None);
    }

    /// Emits the record as handled by a caller whose `ok_if` accepted the
    /// error: at `DEBUG`, as the event of that caller's `sink` (which has the
    /// caller's `handled_attribute`, set to `handled`) and span name
    /// `event`, still tied to the span the exception escaped first.
    #[cold]
    #[inline(never)]
    pub(crate) fn emit_handled(
        self: Box<Self>,
        sink: ExceptionSink,
        event: &'static str,
        handled: Option<&str>,
    ) {
        self.emit_as(sink, event, Level::DEBUG, handled);
    }

    #[allow(clippy::boxed_local)]
    fn emit_as(
        self: Box<Self>,
        sink: ExceptionSink,
        event: &'static str,
        level: Level,
        handled: Option<&str>,
    ) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // Without a span there (no tracer), the current context as is.
            #[cfg(not(feature = "testing"))]
            let _guard = self.span_context.is_valid().then(|| {
                Context::current()
                    .with_remote_span_context(self.span_context.clone())
                    .attach()
            });
            // Under a capture, that frame's capture too.
            #[cfg(feature = "testing")]
            let _guard = (self.span_context.is_valid() || self.capture.is_some()).then(|| {
                let cx = Context::current();
                let cx = match self.span_context.is_valid() {
                    true => cx.with_remote_span_context(self.span_context.clone()),
                    false => cx,
                };
                match &self.capture {
                    Some(capture) => capture.within(cx),
                    None => cx,
                }
                .attach()
            });
            (sink.emit)(
                &ExceptionRecord {
                    name: self.name,
                    r#type: &self.error_type,
                    message: self.message.as_deref(),
                    stacktrace: self.stacktrace.as_deref(),
                    function: self.function,
                    handled,
                    event,
                },
                level,
            );
        }));
    }
}

/// What the last instrumented call that finished inside a frame left
/// behind; one of these per thread (the frame running now) and per frame.
#[derive(Debug, Default)]
pub(crate) enum Below {
    /// Thread only: no instrumented frame is running on this thread.
    Outside,
    /// It succeeded, or its failure is not a recorded exception.
    #[default]
    Nothing,
    /// It returned an error whose record is already emitted.
    Emitted,
    /// A recorded panic is unwinding out of it.
    Panic,
    /// It returned an error whose record waits for its fate. Not dropped
    /// implicitly: [`Below::handled`] emits it (and frees it), so that a
    /// `Below` has no drop glue and the success path moves it around as
    /// plain data.
    Pending(ManuallyDrop<Box<Pending>>),
}

impl Below {
    /// Whether no instrumented frame encloses the one being entered.
    #[inline]
    pub(crate) fn is_outside(&self) -> bool {
        matches!(self, Below::Outside)
    }

    /// The enclosing code handled what this holds: a pending record is
    /// emitted now, at the severity reached so far.
    #[inline]
    pub(crate) fn handled(self) {
        if let Below::Pending(pending) = self {
            ManuallyDrop::into_inner(pending).emit();
        }
    }

    /// A record waiting for its fate.
    pub(crate) fn pending(pending: Box<Pending>) -> Below {
        Below::Pending(ManuallyDrop::new(pending))
    }
}

/// A [`Below`] kept by an instrumented future between its polls: dropped
/// (the future cancelled), it emits a record pending in it.
#[derive(Debug, Default)]
pub(crate) struct Held(Below);

impl Held {
    /// Takes what it holds, leaving [`Below::Nothing`].
    #[inline]
    pub(crate) fn take(&mut self) -> Below {
        std::mem::take(&mut self.0)
    }

    /// Holds `below` (it held nothing: [`Held::take`] came first).
    #[inline]
    pub(crate) fn put(&mut self, below: Below) {
        std::mem::replace(&mut self.0, below).handled();
    }
}

impl Drop for Held {
    #[inline]
    fn drop(&mut self) {
        self.take().handled();
    }
}

thread_local! {
    /// What the last instrumented call that finished on this thread left.
    static BELOW: Cell<Below> = const { Cell::new(Below::Outside) };
}

/// Enters a frame's body (or one poll of its future): puts the frame's own
/// memory in the thread and returns what was there, the enclosing frame's
/// memory (or [`Below::Outside`]). A record pending there is emitted now: the
/// enclosing frame went on to make another instrumented call, so the error
/// it came from was handled. The enclosing frame's memory becomes
/// [`Below::Emitted`]: if this call never finishes (cancelled) and the
/// enclosing frame then returns that error, it is not recorded again.
#[inline]
pub(crate) fn enter(memory: Below) -> Below {
    match BELOW.try_with(|c| c.replace(memory)) {
        Ok(Below::Pending(pending)) => {
            ManuallyDrop::into_inner(pending).emit();
            Below::Emitted
        }
        Ok(saved) => saved,
        Err(_) => Below::Outside,
    }
}

/// Whether an instrumented call is running on this thread (for the panic
/// hook). Never panics.
pub(crate) fn inside_frame() -> bool {
    BELOW
        .try_with(|c| {
            let below = c.replace(Below::Outside);
            let inside = !below.is_outside();
            c.set(below);
            inside
        })
        .unwrap_or(false)
}

/// Takes what the body left in the thread and puts `memory` there instead.
#[inline]
pub(crate) fn exchange(memory: Below) -> Below {
    BELOW
        .try_with(|c| c.replace(memory))
        .unwrap_or(Below::Nothing)
}

/// Leaves `outcome` for the enclosing frame, or, for the outermost frame,
/// marks the thread as outside any frame. Whatever it displaces (only
/// something an instrumented call inside `ok_if` or `error_type` left) is
/// handled.
#[inline]
pub(crate) fn leave(outcome: Below, outermost: bool) {
    let outcome = if outermost {
        // Only a failure leaves something to hand on, and `finish` has
        // emitted any record whose fate this decides.
        outcome.handled();
        Below::Outside
    } else {
        outcome
    };
    if let Ok(displaced) = BELOW.try_with(|c| c.replace(outcome)) {
        displaced.handled();
    }
}

/// A `fmt::Write` that keeps at most `limit` bytes and then refuses more:
/// a `Display` that goes on writing gets an error at once, so no more of the
/// error is formatted than the limit needs.
struct Bounded {
    out: String,
    limit: usize,
    truncated: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.truncated {
            return Err(fmt::Error);
        }
        let room = self.limit - self.out.len();
        if s.len() <= room {
            self.out.push_str(s);
            return Ok(());
        }
        self.out.push_str(&s[..floor_char_boundary(s, room)]);
        self.truncated = true;
        Err(fmt::Error)
    }
}

/// The largest character boundary of `s` at or before `at`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut cut = at.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// Appends the marker of a text cut after `at` bytes: `… [cut at 4096 bytes]`.
pub(crate) fn push_cut_marker(out: &mut String, at: usize) {
    let _ = write!(out, "… [cut at {at} bytes]");
}

/// Cuts `s` to at most `limit` bytes at a character boundary and marks the
/// cut with [`push_cut_marker`]; a text within the limit is left as it is.
pub(crate) fn cut_to(s: &mut String, limit: usize) {
    if s.len() > limit {
        let cut = floor_char_boundary(s, limit);
        s.truncate(cut);
        push_cut_marker(s, cut);
    }
}

/// Formats `value` into at most `limit` bytes; a longer text is cut at a
/// character boundary and ends with `… [cut at N bytes]` (N: the bytes
/// kept). A `Display` that panics or fails yields what it wrote before,
/// never a panic.
pub(crate) fn bounded_display(value: &dyn Display, limit: usize) -> String {
    let mut w = Bounded {
        out: String::new(),
        limit,
        truncated: false,
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write!(w, "{value}")));
    if result.is_err() {
        w.out.truncate(0);
        w.out
            .push_str("<the error's Display implementation panicked>");
    } else if w.truncated {
        let at = w.out.len();
        push_cut_marker(&mut w.out, at);
    }
    w.out
}

/// The `source()` chain of `error`, one `caused by:` line per level, bounded
/// in depth and size; `None` when the error has no source. A chain cut at
/// [`STACKTRACE_LIMIT`] bytes ends with `… [cut at N bytes]`, one cut at
/// [`SOURCE_DEPTH_LIMIT`] levels with `… [cut at 32 levels]`.
pub(crate) fn source_chain(error: &dyn Error) -> Option<String> {
    let mut source = error.source()?;
    let mut out = String::new();
    for depth in 0..SOURCE_DEPTH_LIMIT {
        let room = STACKTRACE_LIMIT.saturating_sub(out.len());
        // Formats at most what still fits (one byte more tells a cut).
        let line = bounded_display(source, MESSAGE_LIMIT.min(room));
        let _ = writeln!(out, "caused by ({depth}): {line}");
        if out.len() > STACKTRACE_LIMIT {
            cut_to(&mut out, STACKTRACE_LIMIT);
            return Some(out);
        }
        match source.source() {
            Some(next) => source = next,
            None => return Some(out),
        }
    }
    let _ = write!(out, "… [cut at {SOURCE_DEPTH_LIMIT} levels]");
    Some(out)
}

/// The message of a panic payload, when it is a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Big;
    impl Display for Big {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for _ in 0..1_000_000 {
                f.write_str("é")?;
            }
            Ok(())
        }
    }

    struct Ignores;
    impl Display for Ignores {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for _ in 0..10_000 {
                let _ = f.write_str("abcdef");
            }
            Ok(())
        }
    }

    struct Panics;
    impl Display for Panics {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("display panicked")
        }
    }

    #[test]
    fn messages_are_bounded() {
        let s = bounded_display(&Big, MESSAGE_LIMIT);
        // "é" is 2 bytes: the cut falls on a character boundary, 4096
        assert!(s.ends_with("é… [cut at 4096 bytes]"), "{}", &s[4000..]);
        let s = bounded_display(&Big, 5);
        assert_eq!(s, "éé… [cut at 4 bytes]", "never splits a character");
        let s = bounded_display(&Ignores, 10);
        assert_eq!(s, "abcdefabcd… [cut at 10 bytes]");
        assert_eq!(bounded_display(&"abcdefabcd", 10), "abcdefabcd", "fits");
        assert_eq!(bounded_display(&"", 10), "");
        assert_eq!(bounded_display(&"a\u{0}b\n", 10), "a\u{0}b\n");
    }

    /// Counts what it is asked to write: a cut display stops being asked.
    struct Counted<'a>(&'a std::cell::Cell<usize>);
    impl Display for Counted<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for _ in 0..1_000_000 {
                self.0.set(self.0.get() + 1);
                f.write_str("0123456789")?;
            }
            Ok(())
        }
    }

    #[test]
    fn no_more_is_formatted_than_the_limit_needs() {
        let writes = std::cell::Cell::new(0);
        let s = bounded_display(&Counted(&writes), 100);
        assert_eq!(s.len(), 100 + "… [cut at 100 bytes]".len());
        assert_eq!(writes.get(), 11, "stops at the first write past the limit");
    }

    #[test]
    fn long_chains_are_cut_with_a_marker() {
        #[derive(Debug)]
        struct Wide;
        impl Display for Wide {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&"ü".repeat(1000))
            }
        }
        impl Error for Wide {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                static NEXT: Wide = Wide;
                Some(&NEXT)
            }
        }
        let chain = source_chain(&Wide).unwrap();
        let (kept, marker) = chain.rsplit_once("… [cut at ").expect("a marker");
        assert_eq!(marker, format!("{} bytes]", kept.len()));
        assert!(kept.len() <= STACKTRACE_LIMIT && kept.len() >= STACKTRACE_LIMIT - 1);
        let mut cut = String::from(kept);
        cut_to(&mut cut, 3);
        assert_eq!(cut, "cau… [cut at 3 bytes]");
    }

    #[test]
    fn panicking_display_is_contained() {
        let s = bounded_display(&Panics, 100);
        assert!(s.contains("panicked"));
    }

    #[derive(Debug)]
    struct Chain(u32);
    impl Display for Chain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "level {}", self.0)
        }
    }
    impl Error for Chain {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            // an endless chain: every level has a source
            Some(&LOOP)
        }
    }
    static LOOP: Chain = Chain(1);

    #[derive(Debug)]
    struct Leaf;
    impl Display for Leaf {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("leaf")
        }
    }
    impl Error for Leaf {}

    #[test]
    fn source_chain_is_bounded() {
        assert!(source_chain(&Leaf).is_none());
        let chain = source_chain(&Chain(0)).unwrap();
        assert_eq!(chain.lines().count(), SOURCE_DEPTH_LIMIT + 1);
        assert!(chain.starts_with("caused by (0): level 1\n"));
        assert!(chain.ends_with("\n… [cut at 32 levels]"), "{chain}");
        assert!(chain.len() <= STACKTRACE_LIMIT);
    }

    #[test]
    fn panic_messages() {
        let p: Box<dyn std::any::Any + Send> = Box::new("boom");
        assert_eq!(panic_message(&*p), Some("boom"));
        let p: Box<dyn std::any::Any + Send> = Box::new(String::from("owned"));
        assert_eq!(panic_message(&*p), Some("owned"));
        let p: Box<dyn std::any::Any + Send> = Box::new(3u8);
        assert_eq!(panic_message(&*p), None);
    }

    #[test]
    fn thread_memory() {
        assert!(enter(Below::Nothing).is_outside());
        assert!(matches!(exchange(Below::Emitted), Below::Nothing));
        // a nested frame sees its enclosing frame's memory
        assert!(matches!(enter(Below::Nothing), Below::Emitted));
        leave(Below::Panic, false);
        assert!(matches!(exchange(Below::Nothing), Below::Panic));
        leave(Below::Nothing, true);
        assert!(enter(Below::Nothing).is_outside());
        leave(Below::Nothing, true);
    }

    static EMITTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn count(record: &ExceptionRecord<'_>, level: Level) {
        assert_eq!(record.r#type, "t");
        assert_eq!(record.function, "f");
        assert_eq!(level, Level::ERROR);
        EMITTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn pending() -> Below {
        Below::pending(Box::new(Pending {
            sink: ExceptionSink {
                level: Level::WARN,
                emit: count,
            },
            level: Level::ERROR,
            error_type: Cow::Borrowed("t"),
            message: Some("m".into()),
            stacktrace: None,
            name: "n",
            function: "f",
            span_context: SpanContext::empty_context(),
            #[cfg(feature = "testing")]
            capture: None,
        }))
    }

    #[test]
    fn pending_records_are_emitted_once_wherever_they_end() {
        use std::sync::atomic::Ordering::SeqCst;
        let before = EMITTED.load(SeqCst);
        // held by a future that is dropped (cancelled)
        let mut held = Held::default();
        held.put(pending());
        drop(held);
        assert_eq!(EMITTED.load(SeqCst), before + 1);
        // left for a frame that goes on with another instrumented call
        assert!(enter(Below::Nothing).is_outside());
        leave(pending(), false);
        assert!(matches!(enter(Below::Nothing), Below::Emitted));
        assert_eq!(EMITTED.load(SeqCst), before + 2);
        // handled by returning normally; then the outermost frame leaves
        leave(pending(), false);
        exchange(Below::Nothing).handled();
        assert_eq!(EMITTED.load(SeqCst), before + 3);
        leave(pending(), true);
        assert_eq!(EMITTED.load(SeqCst), before + 4);
        assert!(enter(Below::Nothing).is_outside());
        leave(Below::Nothing, true);
    }

    #[test]
    fn severity_order() {
        assert_eq!(most_severe(Level::WARN, Level::ERROR), Level::ERROR);
        assert_eq!(most_severe(Level::DEBUG, Level::WARN), Level::WARN);
        assert_eq!(most_severe(Level::TRACE, Level::TRACE), Level::TRACE);
    }
}
