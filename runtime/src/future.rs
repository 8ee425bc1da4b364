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

use opentelemetry::{Context, KeyValue};

use crate::classify::Verdict;
use crate::exception::{self, Below, Held};
use crate::frame::{AfterCall, Frame, NoResultAttributes, WithResultAttributes};
use crate::site::CallSite;
use crate::value::ResultAttributes;

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
pub struct Instrumented<F, C, I, H> {
    fut: F,
    site: &'static CallSite,
    attributes: Option<I>,
    frame: Option<Frame>,
    classify: Option<C>,
    after: H,
    /// What the last instrumented call inside left, kept between polls; a
    /// record pending there when the future is dropped (cancelled) is
    /// emitted then.
    below: Held,
}

impl CallSite {
    /// Instruments `fut` as one call of this function. `attributes` were
    /// evaluated when the future was made; they are set on the span when it
    /// starts, if it records.
    #[inline]
    pub fn instrument<F, C, I>(
        &'static self,
        attributes: I,
        fut: F,
        classify: C,
    ) -> Instrumented<F, C, I, NoResultAttributes>
    where
        F: Future,
        C: for<'a> FnOnce(&'a F::Output) -> Verdict<'a>,
        I: IntoIterator<Item = KeyValue>,
    {
        Instrumented {
            fut,
            site: self,
            attributes: Some(attributes),
            frame: None,
            classify: Some(classify),
            after: NoResultAttributes,
            below: Held::default(),
        }
    }

    /// [`CallSite::instrument`] for a function with `result_attributes = f`:
    /// `result_attributes` is called with the output when the span records,
    /// and its attributes are set on the span before it ends.
    #[inline]
    pub fn instrument_with_result_attributes<F, C, I, A, J>(
        &'static self,
        attributes: I,
        fut: F,
        classify: C,
        result_attributes: A,
    ) -> Instrumented<F, C, I, WithResultAttributes<A>>
    where
        F: Future,
        C: for<'a> FnOnce(&'a F::Output) -> Verdict<'a>,
        I: IntoIterator<Item = KeyValue>,
        A: FnOnce(&F::Output) -> ResultAttributes<J>,
    {
        Instrumented {
            fut,
            site: self,
            attributes: Some(attributes),
            frame: None,
            classify: Some(classify),
            after: WithResultAttributes(Some(result_attributes)),
            below: Held::default(),
        }
    }
}

impl<F, C, I, H> Future for Instrumented<F, C, I, H>
where
    F: Future,
    C: for<'a> FnOnce(&'a F::Output) -> Verdict<'a>,
    I: IntoIterator<Item = KeyValue>,
    H: AfterCall<F::Output>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, task: &mut std::task::Context<'_>) -> Poll<F::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of
        // `self`, and `Instrumented` has no `Drop` impl and no `Unpin` impl of
        // its own. The other fields are not pinned and may be moved freely.
        let this = unsafe { self.get_unchecked_mut() };
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        if this.frame.is_none() && this.site.state().is_inert() && !capturing() {
            // Nothing listens: no frame at all, just the inner future.
            return fut.poll(task);
        }
        if let Some(attributes) = this.attributes.take() {
            this.frame = Some(this.site.start(|| attributes));
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
                if let (Some(mut frame), Some(classify)) = (this.frame.take(), this.classify.take())
                {
                    let verdict = crate::frame::classify_contained(classify, &out);
                    this.after.after(&frame, &out);
                    frame.finish(verdict, below, false, outermost);
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
