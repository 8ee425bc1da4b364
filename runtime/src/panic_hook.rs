//! Where a panic happened: the panic hook that gives a panic's exception
//! record its location and a backtrace that starts at the panicking frame.
//!
//! `catch_unwind` hands the instrumented frame only the payload; the panic's
//! location and the stack at the panic are seen by the panic hook alone. So
//! the runtime installs a hook, **once per process, at the first call of an
//! instrumented function** (before its body runs), and never while the
//! calling thread is panicking (`std::panic::set_hook` panics then; the next
//! first call installs it). The hook it replaced (`std::panic::take_hook`:
//! std's default hook, or the application's own) is called by it for every
//! panic, after it, with the same `PanicHookInfo`: what the process prints
//! and what the application's hook does are unchanged.
//!
//! For a panic raised while an instrumented call runs on the thread, the hook
//! notes, in a thread-local, the panic's `file:line:column` and, when
//! backtraces are enabled (`RUST_BACKTRACE` / `RUST_LIB_BACKTRACE`), a
//! backtrace whose first frame is the function that panicked: the frames of
//! the hook, of std's panic machinery (`begin_panic`, `panic_fmt`,
//! `unwrap_failed`, ...), of this crate and of `catch_unwind` are left out.
//! The frame the panic unwinds out of takes that note as its record's
//! `exception.stacktrace`:
//!
//! ```text
//! panicked at src/web.rs:195:9
//!    0: shop::web::get_item
//!              at ./src/web.rs:195:9
//!    1: shop::web::serve
//! ...
//! ```
//!
//! A note belongs to one panic: it carries the payload it was taken for (the
//! address and length of the message, for the `&str` and `String` payloads
//! of `panic!`, `unwrap` and `expect`) and is used only for that payload. A
//! panic re-raised with `std::panic::resume_unwind` (which does not run the
//! hook) with another payload, or one whose note was left by a panic caught
//! elsewhere, gets no location: never a stale one. A panic whose payload is
//! not a string (`std::panic::panic_any(42)`) gets no location either.
//!
//! Without a note (a non-string payload, a `#[track_caller]` function, or the
//! hook replaced) the record's stack trace is, when backtraces are enabled,
//! the backtrace taken where the panic left the instrumented function (its
//! callers), without this crate's frames; with backtraces off, none.
//!
//! **An application that sets its own hook later** with `set_hook` and does
//! not call the previous one (taken with `take_hook`) removes this one:
//! panics are still recorded (status, `error.type` `"panic"`, message) but
//! without location, as just said. An application hook set *before* the
//! first instrumented call keeps running, called by this one; one set later
//! that chains (calls what `take_hook` returned) keeps this one running.

use std::any::{Any, TypeId};
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::exception::{self, cut_to, STACKTRACE_LIMIT};

/// Whether the hook is installed (or being installed).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the hook, once per process, unless this thread is panicking.
/// Called at the first call of each instrumented function.
pub(crate) fn install() {
    if INSTALLED.load(Ordering::Relaxed) || std::thread::panicking() {
        return;
    }
    if INSTALLED
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        note(info.location(), info.payload());
        previous(info);
    }));
}

/// Which payload a note was taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PayloadKey {
    /// The message's address and length: the same text, moved into the box
    /// that `catch_unwind` returns, keeps them.
    ptr: usize,
    len: usize,
    /// `&'static str` or `String`.
    ty: TypeId,
}

impl PayloadKey {
    fn of(payload: &(dyn Any + Send)) -> Option<PayloadKey> {
        if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some(PayloadKey {
                ptr: s.as_ptr() as usize,
                len: s.len(),
                ty: TypeId::of::<&'static str>(),
            })
        } else {
            payload.downcast_ref::<String>().map(|s| PayloadKey {
                ptr: s.as_ptr() as usize,
                len: s.len(),
                ty: TypeId::of::<String>(),
            })
        }
    }
}

/// What the hook saw of the last panic raised inside an instrumented call
/// on this thread.
struct Note {
    key: PayloadKey,
    /// `panicked at file:line:column`, then the trimmed backtrace when
    /// backtraces are enabled; bounded.
    text: String,
}

thread_local! {
    static NOTE: Cell<Option<Note>> = const { Cell::new(None) };
}

/// The hook's own work: note the location (and backtrace) of a panic raised
/// inside an instrumented call. Nothing here can panic (a panic in a hook
/// aborts): thread-locals are reached with `try_with`, writes into a
/// `String` do not fail.
fn note(location: Option<&std::panic::Location<'_>>, payload: &(dyn Any + Send)) {
    if !exception::inside_frame() {
        return;
    }
    let Some(key) = PayloadKey::of(payload) else {
        return;
    };
    let mut text = String::new();
    if let Some(location) = location {
        let _ = write!(
            text,
            "panicked at {}:{}:{}",
            location.file(),
            location.line(),
            location.column()
        );
    }
    let backtrace = Backtrace::capture();
    if backtrace.status() == BacktraceStatus::Captured {
        push_frames(&mut text, &backtrace.to_string(), true);
    }
    cut_to(&mut text, STACKTRACE_LIMIT);
    let _ = NOTE.try_with(|n| n.set(Some(Note { key, text })));
}

/// The note the hook took for `payload`, if any: the stack trace of the
/// panic unwinding out of an instrumented frame. Any note left on the thread
/// is consumed: one taken for another payload is dropped.
pub(crate) fn take_for(payload: &(dyn Any + Send)) -> Option<String> {
    let note = NOTE.try_with(Cell::take).ok().flatten()?;
    (Some(note.key) == PayloadKey::of(payload)).then_some(note.text)
}

/// Without a note: the backtrace where the panic left the instrumented
/// function (its callers), without this crate's frames, when backtraces are
/// enabled.
pub(crate) fn backtrace_here() -> Option<String> {
    let backtrace = Backtrace::capture();
    if backtrace.status() != BacktraceStatus::Captured {
        return None;
    }
    let mut text = String::new();
    push_frames(&mut text, &backtrace.to_string(), true);
    if text.is_empty() {
        return None;
    }
    text.remove(0); // the first frame's line break
    cut_to(&mut text, STACKTRACE_LIMIT);
    Some(text)
}

/// Appends the frames of a `std::backtrace::Backtrace` rendering to `out`,
/// each on a new line and numbered from 0 again, leaving out: the frames
/// before the first one outside std's panic machinery, this crate and the
/// backtrace capture (the hook and `panic!`'s own frames) when `leading`, and
/// everywhere the frames of this crate and of `catch_unwind`.
fn push_frames(out: &mut String, rendered: &str, leading: bool) {
    let mut started = !leading;
    let mut number = 0usize;
    let mut keep = false;
    for line in rendered.lines() {
        if let Some(name) = frame_name(line) {
            if !started && !is_machinery(name) {
                started = true;
            }
            keep = started && !is_hidden(name);
            if keep {
                let _ = write!(out, "\n{number:4}: {name}");
                number += 1;
            }
        } else if keep {
            out.push('\n');
            out.push_str(line);
        }
    }
}

/// The function of a frame's first line (`  12: path::to::function`).
fn frame_name(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    let (number, name) = trimmed.split_once(": ")?;
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// std's and core's frames, this crate's, and the runtime's own glue: what
/// runs between `panic!` and the hook.
fn is_machinery(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    [
        "std::",
        "core::",
        "alloc::",
        "instrument_errors::",
        "__rust",
        "rust_begin_unwind",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// Frames that never show: this crate's, and `catch_unwind`'s.
fn is_hidden(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    name.starts_with("instrument_errors::")
        || name.starts_with("std::panicking::try")
        || name.starts_with("std::panicking::catch_unwind")
        || name.starts_with("std::panic::catch_unwind")
        || name.starts_with("__rust_try")
        || name.starts_with("core::panic::unwind_safe::AssertUnwindSafe")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENDERED: &str = "   0: instrument_errors::panic_hook::note
             at ./src/panic_hook.rs:120:21
   1: <alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call
   2: std::panicking::rust_panic_with_hook
   3: __rustc::rust_begin_unwind
   4: core::panicking::panic_fmt
   5: app::web::get_item
             at ./src/web.rs:195:9
   6: instrument_errors::frame::Frame::run_inner::{{closure}}
   7: std::panicking::catch_unwind::do_call
   8: __rust_try
   9: <core::panic::unwind_safe::AssertUnwindSafe<F> as core::ops::function::FnOnce<()>>::call_once
  10: app::web::serve
             at ./src/web.rs:20:5
";

    #[test]
    fn frames_start_at_the_panicking_function() {
        let mut out = String::from("panicked at src/web.rs:195:9");
        push_frames(&mut out, RENDERED, true);
        assert_eq!(
            out,
            "panicked at src/web.rs:195:9
   0: app::web::get_item
             at ./src/web.rs:195:9
   1: app::web::serve
             at ./src/web.rs:20:5"
        );
    }

    #[test]
    fn payload_keys() {
        let a: Box<dyn Any + Send> = Box::new("boom");
        let b: Box<dyn Any + Send> = Box::new(String::from("boom"));
        let c: Box<dyn Any + Send> = Box::new(1u8);
        assert!(PayloadKey::of(&*a).is_some());
        assert_ne!(PayloadKey::of(&*a), PayloadKey::of(&*b));
        assert!(PayloadKey::of(&*c).is_none());
        // moved into another box, a String keeps its buffer
        let s = String::from("moved");
        let key = PayloadKey::of(&s);
        let boxed: Box<dyn Any + Send> = Box::new(s);
        assert_eq!(key, PayloadKey::of(&*boxed));
    }
}
