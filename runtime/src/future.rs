//! Instrumenting futures: the span is the current context during every poll,
//! the clock runs from the first poll to completion.
//!
//! # What the attribute instruments as a future
//!
//! The signature decides (see the crate's `instrument_errors` attribute):
//!
//! * `async fn`: free functions, methods (`&self`, `&mut self`, `self`),
//!   generic ones, `async fn` in traits (implementations and default methods).
//! * `-> impl Future<Output = T>` and `-> impl IntoFuture<Output = T>`: the
//!   body runs when the function is called and builds the future (whatever
//!   its last expression is); the returned future is the operation.
//! * `-> Pin<Box<dyn Future<Output = T> (+ Send) + '_>>` and every alias of it
//!   (`BoxFuture`, `LocalBoxFuture`), found through the type system: the body
//!   builds the box, which is returned in a box of its own around
//!   [`Instrumented`]; a body ending in `Box::pin(async ..)` with no other
//!   way out (what `#[async_trait]` writes) gets its `async` block
//!   instrumented in place, in the same box.
//!
//! Another named future type (`JoinHandle<T>`, `Ready<T>`, a generic
//! `F: Future`) is a compile error: the runtime cannot return it instrumented
//! in its own type. Attributes on `async` closures are not supported by the
//! language on stable Rust; instrument a function they call.
//!
//! # When the span starts, and cancellation
//!
//! The span and the clock start at the **first poll**, not when the future is
//! built: a future built and never polled records nothing, and the time a
//! future waits before its first poll is not part of the operation. The span
//! is a child of the context current at that first poll (the awaiting
//! instrumented future's span, or what `FutureExt::with_context` attached);
//! a task spawned without its parent's context (`tokio::spawn(f())`) is a
//! root, not a child of the code that spawned it; pass
//! `f().with_current_context()` to keep it in the trace.
//!
//! A future dropped before it completed was **cancelled** (a lost
//! `tokio::select!` branch, an elapsed `tokio::time::timeout`, an aborted
//! task): its span ends at the drop with status Unset and no `error.type`, no
//! exception of its own is logged, and **no duration is recorded**: the
//! operation did not finish, and a timeout is the caller's failure, recorded
//! where the caller turns it into an error. An exception record still waiting
//! for its fate in it (an error an instrumented call inside returned) is
//! emitted at the drop, at the severity it reached.
//!
//! `Send`-ness is preserved: [`Instrumented`] is `Send` when the inner future
//! is, and a `!Send` future (an `Rc` held across an `.await`) stays usable on
//! a `LocalSet` or with `block_on`.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::Poll;

use opentelemetry::Context;

use crate::classify::Verdict;
use crate::entry::{After, Start};
use crate::exception::{self, Below, Held};
use crate::frame::Frame;
use crate::site::CallSite;

pin_project_lite::pin_project! {
    /// A future instrumented as one call of an `async` instrumented function.
    ///
    /// The span starts and the clock starts at the **first poll** (for an
    /// `async fn` that is when its body starts running; creating the future does
    /// nothing), and both stop when the inner future completes. During every poll
    /// the span is the current OpenTelemetry context, so instrumented calls
    /// awaited inside nest under it on whatever thread the poll runs; no context
    /// guard is held across an `.await`. A panic inside a poll is recorded once
    /// and continues unchanged. Dropped before completion (cancellation), the
    /// future ends its span with status Unset and records no duration.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F, C, E, H> {
        // The only structurally pinned field (`pin-project-lite` projects it);
        // the others are moved freely.
        #[pin]
        fut: F,
        site: &'static CallSite,
        // What the call starts with (see [`Entry`](crate::__private::Entry)),
        // until its first poll.
        entry: Option<E>,
        frame: Option<Frame>,
        // The classification and after-call closures, until completion.
        hooks: Option<(C, H)>,
        // What the last instrumented call inside left, kept between polls; a
        // record pending there when the future is dropped (cancelled) is
        // emitted then.
        below: Held,
    }
}

impl CallSite {
    /// Instruments `fut` as one call of this function. `entry` was made when
    /// the future was (its `attributes(..)` evaluated then); the span starts
    /// with it at the first poll. When the future completes, its output is
    /// classified by `classify` and handed to `after` (see
    /// [`After`](crate::__private::After)).
    #[inline]
    pub fn instrument<F, C, E, H>(
        &'static self,
        entry: E,
        fut: F,
        classify: C,
        after: H,
    ) -> Instrumented<F, C, E, H>
    where
        F: Future,
        C: for<'a> FnOnce(&'a F::Output) -> Verdict<'a>,
        E: Start,
        H: FnOnce(&F::Output, &mut After<'_>),
    {
        Instrumented {
            fut,
            site: self,
            entry: Some(entry),
            frame: None,
            hooks: Some((classify, after)),
            below: Held::default(),
        }
    }
}

impl<F, C, E, H> Future for Instrumented<F, C, E, H>
where
    F: Future,
    C: for<'a> FnOnce(&'a F::Output) -> Verdict<'a>,
    E: Start,
    H: FnOnce(&F::Output, &mut After<'_>),
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, task: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let fut = this.fut;
        if this.frame.is_none() && this.site.state().is_inert() && !capturing() {
            // Nothing listens: no frame at all, just the inner future.
            return fut.poll(task);
        }
        if let Some(entry) = this.entry.take() {
            *this.frame = Some(entry.start(this.site));
        }
        let frame = match this.frame.as_mut() {
            Some(frame) if !frame.is_inert() => frame,
            _ => return fut.poll(task),
        };
        let guard = frame.cx.clone().map(Context::attach);
        let saved = exception::enter(this.below.take());
        let outermost = saved.is_outside();
        let result = catch_unwind(AssertUnwindSafe(|| fut.poll(task)));
        match result {
            Ok(Poll::Pending) => {
                // The frame keeps its memory between polls; the enclosing
                // frame's is put back.
                this.below.put(exception::exchange(saved));
                drop(guard);
                Poll::Pending
            }
            Ok(Poll::Ready(out)) => {
                let below = exception::exchange(Below::Nothing);
                if let (Some(mut frame), Some((classify, after))) =
                    (this.frame.take(), this.hooks.take())
                {
                    frame.complete(&out, classify, after, below, outermost);
                    // Finished: it holds nothing left to end or emit.
                    std::mem::forget(frame);
                }
                drop(guard);
                Poll::Ready(out)
            }
            Err(payload) => {
                let below = exception::exchange(Below::Nothing);
                if let Some(mut frame) = this.frame.take() {
                    frame.finish_panic(&*payload, below, outermost);
                }
                drop(guard);
                resume_unwind(payload)
            }
        }
    }
}

/// Whether a capture may be running (feature `testing`): an inert call
/// site is captured all the same.
#[inline(always)]
fn capturing() -> bool {
    #[cfg(feature = "testing")]
    return crate::testing::active();
    #[cfg(not(feature = "testing"))]
    false
}
