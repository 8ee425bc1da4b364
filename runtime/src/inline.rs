//! Calls of `#[track_caller]` functions, whose body runs in the function
//! itself rather than in a closure.
//!
//! `#[track_caller]` does not reach into closures (on stable Rust), so the
//! expansion cannot run such a body inside [`Frame::run`]: it writes the body
//! inline, turns its `return`s and `?`s into `break`s out of a labeled block,
//! and records the outcome with [`InlineFrame::finish`]. A panic is seen by
//! the frame's destructor, which knows that the thread is panicking but not
//! the payload: it is recorded as `error.type = "panic"` without a message.

use std::borrow::Cow;
use std::convert::Infallible;
use std::ops::ControlFlow;

use opentelemetry::{Context, ContextGuard};

use crate::classify::{Failure, Verdict};
use crate::entry::After;
use crate::exception::{self, Below};
use crate::frame::{Frame, PANIC};

/// A call of a `#[track_caller]` function while its body runs.
#[derive(Debug)]
pub struct InlineFrame {
    frame: Option<Frame>,
    guard: Option<ContextGuard>,
    /// No instrumented frame encloses this one on this thread.
    outermost: bool,
}

impl InlineFrame {
    /// Enters `frame`: its span becomes the current context until
    /// [`InlineFrame::finish`].
    #[inline]
    pub fn enter(frame: Frame) -> InlineFrame {
        if frame.is_inert() {
            // An inert frame owns nothing: skip its destructor.
            std::mem::forget(frame);
            return InlineFrame {
                frame: None,
                guard: None,
                outermost: false,
            };
        }
        let guard = frame.cx.clone().map(Context::attach);
        let outermost = exception::enter(Below::Nothing).is_outside();
        InlineFrame {
            frame: Some(frame),
            guard,
            outermost,
        }
    }

    /// Records the returned value, classified by `classify` and handed to
    /// `after` (see [`After`]).
    #[inline]
    pub fn finish<R, C, H>(mut self, out: &R, classify: C, after: H)
    where
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
        H: FnOnce(&R, &mut After<'_>),
    {
        if let Some(mut frame) = self.frame.take() {
            let below = exception::exchange(Below::Nothing);
            frame.complete(out, classify, after, below, self.outermost);
            // Finished: it holds nothing left to end or emit.
            std::mem::forget(frame);
        }
        drop(self.guard.take());
    }
}

impl Drop for InlineFrame {
    /// Still holding its frame, the call is unwinding: a panic.
    fn drop(&mut self) {
        if let Some(mut frame) = self.frame.take() {
            if std::thread::panicking() {
                let below = exception::exchange(Below::Nothing);
                frame.finish(
                    Verdict::Failure(Failure {
                        error_type: Cow::Borrowed(PANIC),
                        message: None,
                        error: None,
                    }),
                    below,
                    Some(None),
                    self.outermost,
                    None,
                );
            }
            // Otherwise the body left without `finish`, which the expansion
            // rules out; the frame's own destructor ends the span.
        }
        drop(self.guard.take());
    }
}

/// The `?` operator, spelled out for the inline body: splits a value into
/// what `?` continues with and what it returns.
pub trait Branch {
    /// What `?` evaluates to.
    type Output;
    /// What `?` returns, converted by [`FromResidual`].
    type Residual;
    /// Continue with the output, or break with the residual.
    fn ie_branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

impl<T, E> Branch for Result<T, E> {
    type Output = T;
    type Residual = Result<Infallible, E>;
    #[inline(always)]
    fn ie_branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(t) => ControlFlow::Continue(t),
            Err(e) => ControlFlow::Break(Err(e)),
        }
    }
}

impl<T> Branch for Option<T> {
    type Output = T;
    type Residual = Option<Infallible>;
    #[inline(always)]
    fn ie_branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(t) => ControlFlow::Continue(t),
            None => ControlFlow::Break(None),
        }
    }
}

/// What `?` returns from the function, as `std::ops::FromResidual` does.
#[diagnostic::on_unimplemented(
    message = "the `?` operator cannot return `{R}` from a function returning `{Self}`",
    label = "`#[instrument_errors]` on a `#[track_caller]` function supports `?` on `Result` and `Option` only"
)]
pub trait FromResidual<R> {
    /// The value returned by `?`.
    fn ie_from_residual(residual: R) -> Self;
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Result<T, F> {
    #[inline(always)]
    fn ie_from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Err(From::from(e)),
            Ok(never) => match never {},
        }
    }
}

impl<T> FromResidual<Option<Infallible>> for Option<T> {
    #[inline(always)]
    fn ie_from_residual(_: Option<Infallible>) -> Self {
        None
    }
}
