//! Exceptions as log records, recorded once.
//!
//! # The emission path
//!
//! OpenTelemetry's Logs API is, in Rust, a bridge API that libraries are not
//! meant to call. So when an instrumented call fails with an exception, the
//! runtime emits one [`tracing`](https://docs.rs/tracing) event, and the application decides where it
//! goes:
//!
//! 1. the event is emitted at the end of the call, **while the operation's
//!    span is the current OpenTelemetry `Context`** and before the span ends;
//! 2. `opentelemetry-appender-tracing`'s `OpenTelemetryTracingBridge` layer
//!    turns it into a log record: the event's name becomes the record's event
//!    name, its fields become attributes, its level the severity (`TRACE` 1,
//!    `DEBUG` 5, `INFO` 9, `WARN` 13, `ERROR` 17), its target (the module of
//!    the instrumented function) the record's target;
//! 3. the SDK's logger stamps the record with the trace id and span id of the
//!    current context, which is the failing operation's span.
//!
//! Any other subscriber sees the same event (`tracing_subscriber::fmt` prints
//! it); without a subscriber it costs a check and goes nowhere. The crate
//! re-exports [`tracing`](https://docs.rs/tracing) so that an application can install a
//! subscriber without naming the dependency itself.
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
//! * Event name `<span name>.exception`, as the conventions recommend.
//! * `exception.type`: the same value as the span's and the metric point's
//!   `error.type` (after the [`ERROR_TYPE_LIMIT`](crate::ERROR_TYPE_LIMIT)),
//!   `"panic"` for a panic.
//! * `exception.message`: the error's `Display`, or the panic's message, at
//!   most [`MESSAGE_LIMIT`] bytes. Absent with `description = false` (the
//!   message may be sensitive), for an error type without `Display`, and for
//!   a panic whose payload is not a string.
//! * `exception.stacktrace`, when there is one. Rust errors carry no stack
//!   trace; what tells their cause is the `source()` chain, so for an error
//!   that implements `std::error::Error` it is that chain, one line per level
//!   (`caused by (0): <Display of source()>`, `caused by (1): …`), at most
//!   [`SOURCE_DEPTH_LIMIT`] levels and [`STACKTRACE_LIMIT`] bytes; absent
//!   when the error has no source. For a panic it is the
//!   [`std::backtrace::Backtrace`] captured when the panic unwinds out of the
//!   instrumented function, only when backtraces are enabled
//!   (`RUST_LIB_BACKTRACE` / `RUST_BACKTRACE`): it shows the instrumented
//!   function and its callers (for an `async fn`, the poll that panicked), not
//!   the frames between the panic site and the function, which only the panic
//!   hook sees.
//!
//! # Severity
//!
//! * `WARN` for an `Err` returned by an `internal`, `client` or `producer`
//!   operation: the caller is expected to handle it;
//! * `ERROR` for an `Err` returned by a `server` or `consumer` operation;
//! * `log_level = trace | debug | info | warn | error` overrides these two;
//! * `ERROR` for a panic, whatever `log_level` says: a panic is unhandled;
//! * `log = false`: no record at all for this operation (its span and metric
//!   still record the failure).
//!
//! # What is an exception
//!
//! An `Err` that `ok_if` does not accept, and a panic. Not an exception: an
//! `Ok` value, including one that `error_if` rejects (the span and the metric
//! record that failure, but nothing was raised, so nothing is logged), and an
//! `Err` that `ok_if` accepts (handled: not even a failure).
//!
//! # The rule for "once"
//!
//! An exception is logged by the innermost instrumented frame it escapes from.
//! Every frame remembers whether the *last* instrumented call made directly
//! inside it that finished (on the same thread while its body, or one poll of
//! its future, runs; the memory travels with the future between polls and
//! threads) ended in an exception that is already recorded. When the frame
//! itself then returns an `Err`, it does not log again: the error came up
//! from below, whether it was returned unchanged (`?`) or converted
//! (`map_err`, `From` via `?`, or a caught panic turned into an `Err`) — a
//! conversion names the same failure in the caller's terms, so it counts as
//! the same exception. The frame's span still gets status `Error` and
//! `error.type`, and its metric point carries `error.type`.
//!
//! A panic is logged by the innermost instrumented frame it unwinds out of,
//! and not again by the frames it then unwinds through. A panic raised on an
//! error that a frame below already logged (`.unwrap()`, `.expect(..)`) is a
//! new exception: the error was expected to be handled and was not, so it is
//! logged (at `ERROR`, with the panic's message and backtrace).
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
//!   error;
//! * with several children in flight at once (`join!`), "last" is the one
//!   that finished last: if it succeeded and the frame returns the error of
//!   another child, that error is logged twice;
//! * a child run on another task or thread (`spawn`, `spawn_blocking`) is not
//!   seen, so an error it returns is logged again by the frame that returns
//!   it. A cancelled child (dropped before it finished) changes nothing.
//!
//! The memory is one small value per thread plus one `bool` per frame:
//! nothing is allocated and nothing outlives the frame, so it cannot leak.
//!
//! # `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`
//!
//! With `logs/dup` in this variable (read once per process, at the first
//! call of any instrumented function), the frame that emits the log record
//! also adds the deprecated span event `exception` to its span, with
//! `exception.type`, `exception.message` and `exception.stacktrace` as in the
//! record: the event duplicates the record, under the same rule and switches
//! (`log = false` turns both off). Unset, or `logs`: log records only.

use std::cell::Cell;
use std::error::Error;
use std::fmt::{self, Display, Write as _};

/// The longest status description or `exception.message` recorded, in bytes;
/// longer messages are cut at a character boundary and end with `…`.
pub const MESSAGE_LIMIT: usize = 4096;

/// The longest `exception.stacktrace` recorded, in bytes.
pub const STACKTRACE_LIMIT: usize = 16 * 1024;

/// How many `source()` levels are followed (a cyclic chain stops here).
pub const SOURCE_DEPTH_LIMIT: usize = 32;

/// One exception, as handed to the `tracing` event.
#[derive(Debug, Clone, Copy)]
pub struct ExceptionRecord<'a> {
    /// `exception.type`: the same value as `error.type`.
    pub r#type: &'a str,
    /// `exception.message`, absent with `description = false`.
    pub message: Option<&'a str>,
    /// `exception.stacktrace`: a panic's backtrace, or an error's `source()` chain.
    pub stacktrace: Option<&'a str>,
}

/// What the last instrumented call that finished on a thread left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Below {
    /// It succeeded, or its failure is not a recorded exception.
    Nothing,
    /// It returned an error that is recorded.
    Error,
    /// A recorded panic is unwinding out of it.
    Panic,
}

thread_local! {
    /// What the last instrumented call that finished on this thread left.
    static RECORDED: Cell<Below> = const { Cell::new(Below::Nothing) };
}

/// Sets the thread's memory for a frame's body (or poll) and returns the
/// value to put back afterwards. A panic never spans two polls, so a frame's
/// memory is only "an exception is recorded below" or not.
#[inline]
pub(crate) fn enter(recorded_below: bool) -> bool {
    let below = if recorded_below {
        Below::Error
    } else {
        Below::Nothing
    };
    RECORDED
        .try_with(|c| c.replace(below) != Below::Nothing)
        .unwrap_or(false)
}

/// Whether the last instrumented call on this thread left a recorded
/// exception (an error or a panic).
#[inline]
pub(crate) fn current() -> bool {
    RECORDED
        .try_with(|c| c.get() != Below::Nothing)
        .unwrap_or(false)
}

/// Whether the panic unwinding now came out of an instrumented call that
/// recorded it.
#[inline]
pub(crate) fn panic_recorded() -> bool {
    RECORDED
        .try_with(|c| c.get() == Below::Panic)
        .unwrap_or(false)
}

/// Leaves `recorded` for the enclosing frame, after an error (or success).
#[inline]
pub(crate) fn leave(recorded: bool) {
    let below = if recorded {
        Below::Error
    } else {
        Below::Nothing
    };
    let _ = RECORDED.try_with(|c| c.set(below));
}

/// Leaves `recorded` for the enclosing frame, with a panic unwinding.
#[inline]
pub(crate) fn leave_panic(recorded: bool) {
    let below = if recorded {
        Below::Panic
    } else {
        Below::Nothing
    };
    let _ = RECORDED.try_with(|c| c.set(below));
}

/// A `fmt::Write` that keeps at most `limit` bytes and then refuses more.
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
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.push_str(&s[..cut]);
        self.truncated = true;
        Err(fmt::Error)
    }
}

/// Formats `value` into at most `limit` bytes (plus `…` when cut). A `Display`
/// that panics or fails yields what it wrote before, never a panic.
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
        w.out.push('…');
    }
    w.out
}

/// The `source()` chain of `error`, one `caused by:` line per level, bounded
/// in depth and size; `None` when the error has no source.
pub(crate) fn source_chain(error: &dyn Error) -> Option<String> {
    let mut source = error.source()?;
    let mut out = String::new();
    for depth in 0..SOURCE_DEPTH_LIMIT {
        if out.len() >= STACKTRACE_LIMIT {
            break;
        }
        let line = bounded_display(source, MESSAGE_LIMIT.min(STACKTRACE_LIMIT - out.len()));
        let _ = writeln!(out, "caused by ({depth}): {line}");
        match source.source() {
            Some(next) => source = next,
            None => return Some(within_limit(out, "")),
        }
    }
    Some(within_limit(out, CHAIN_CUT))
}

const CHAIN_CUT: &str = "… (source chain cut)\n";

/// `out` and `tail` in at most [`STACKTRACE_LIMIT`] bytes: cut at a character
/// boundary and marked with [`CHAIN_CUT`] when they do not fit.
fn within_limit(mut out: String, tail: &str) -> String {
    if out.len() + tail.len() > STACKTRACE_LIMIT {
        let mut cut = STACKTRACE_LIMIT - CHAIN_CUT.len();
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(CHAIN_CUT);
    } else {
        out.push_str(tail);
    }
    out
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
        assert!(s.len() <= MESSAGE_LIMIT + '…'.len_utf8());
        assert!(s.ends_with('…'));
        let s = bounded_display(&Ignores, 10);
        assert_eq!(s, "abcdefabcd…");
        assert_eq!(bounded_display(&"", 10), "");
        assert_eq!(bounded_display(&"a\u{0}b\n", 10), "a\u{0}b\n");
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
        let saved = enter(true);
        assert!(current());
        assert!(!panic_recorded());
        leave(false);
        assert!(!current());
        leave_panic(true);
        assert!(current());
        assert!(panic_recorded());
        // a panic never outlives a poll: entering forgets it
        assert!(enter(false));
        assert!(!panic_recorded());
        leave_panic(false);
        assert!(!current());
        leave(saved);
    }
}
