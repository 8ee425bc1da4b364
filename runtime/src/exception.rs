//! Exceptions as log records, recorded once.
//!
//! # The rule for "once"
//!
//! An error is logged by the innermost instrumented frame it escapes from.
//! Every frame remembers whether the *last* instrumented call made directly
//! inside it (on the same thread while its body, or one poll of its future,
//! runs) ended in a failure that is already recorded. When the frame itself
//! then fails, it does not log again: the error came up from below, whether it
//! was returned unchanged (`?`) or converted (`map_err`, `From` via `?`) — a
//! conversion names the same failure in the caller's terms, so it counts as
//! the same exception. The frame's span still gets status `Error` and
//! `error.type`, and its metric point carries `error.type`.
//!
//! A child that succeeded, or whose error was handled (`ok_if`), resets the
//! memory, so a frame that fails after such calls logs its own error.
//! Limits: a frame that handles a child's error by hand and then fails with a
//! new error before calling any other instrumented function does not log the
//! new error; a child run on another thread or task (`spawn`,
//! `spawn_blocking`) is not seen, so an error it returns is logged again by
//! the frame that returns it.
//!
//! The memory is one `bool` per thread plus one per frame: nothing is
//! allocated and nothing outlives the frame, so it cannot leak.

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

thread_local! {
    /// Whether the last instrumented call that finished on this thread failed
    /// with an exception that is already recorded.
    static RECORDED: Cell<bool> = const { Cell::new(false) };
}

/// Sets the thread's memory for a frame's body (or poll) and returns the
/// value to put back afterwards.
#[inline]
pub(crate) fn enter(recorded_below: bool) -> bool {
    RECORDED
        .try_with(|c| c.replace(recorded_below))
        .unwrap_or(false)
}

/// What the last instrumented call on this thread left.
#[inline]
pub(crate) fn current() -> bool {
    RECORDED.try_with(Cell::get).unwrap_or(false)
}

/// Leaves `recorded` for the enclosing frame.
#[inline]
pub(crate) fn leave(recorded: bool) {
    let _ = RECORDED.try_with(|c| c.set(recorded));
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
            None => return Some(out),
        }
    }
    out.push_str("… (source chain cut)\n");
    Some(out)
}

/// The message of a panic payload, when it is a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Defines the function that emits an operation's exception log record as a
/// `tracing` event named `$name` (`<span name>.exception`): at `$level` for
/// errors and at `ERROR` for panics. Used by the expansion of the attribute.
#[doc(hidden)]
#[macro_export]
macro_rules! __exception_event {
    ($name:literal, ERROR) => {
        |record: &$crate::__private::ExceptionRecord<'_>, _panic: bool| {
            $crate::__private::tracing::event!(
                name: $name,
                $crate::__private::tracing::Level::ERROR,
                "exception.type" = record.r#type,
                "exception.message" = record.message,
                "exception.stacktrace" = record.stacktrace,
            );
        }
    };
    ($name:literal, $level:ident) => {
        |record: &$crate::__private::ExceptionRecord<'_>, panic: bool| {
            if panic {
                $crate::__private::tracing::event!(
                    name: $name,
                    $crate::__private::tracing::Level::ERROR,
                    "exception.type" = record.r#type,
                    "exception.message" = record.message,
                    "exception.stacktrace" = record.stacktrace,
                );
            } else {
                $crate::__private::tracing::event!(
                    name: $name,
                    $crate::__private::tracing::Level::$level,
                    "exception.type" = record.r#type,
                    "exception.message" = record.message,
                    "exception.stacktrace" = record.stacktrace,
                );
            }
        }
    };
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
        assert!(chain.len() <= STACKTRACE_LIMIT + 100);
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
        leave(false);
        assert!(!current());
        leave(saved);
    }
}
