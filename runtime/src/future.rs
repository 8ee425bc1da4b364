//! Instrumenting futures: the span is the current context during every poll,
//! the clock runs from the first poll to completion.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::Poll;

use opentelemetry::{Context, KeyValue};

use crate::classify::Verdict;
use crate::exception;
use crate::frame::Frame;
use crate::site::CallSite;

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
pub struct Instrumented<F, C, I> {
    fut: F,
    site: &'static CallSite,
    attributes: Option<I>,
    frame: Option<Frame>,
    classify: Option<C>,
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
    ) -> Instrumented<F, C, I>
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
        }
    }
}

impl<F, C, I> Future for Instrumented<F, C, I>
where
    F: Future,
    C: for<'a> FnOnce(&'a F::Output) -> Verdict<'a>,
    I: IntoIterator<Item = KeyValue>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut std::task::Context<'_>) -> Poll<F::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of
        // `self`, and `Instrumented` has no `Drop` impl and no `Unpin` impl of
        // its own. The other fields are not pinned and may be moved freely.
        let this = unsafe { self.get_unchecked_mut() };
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        if this.frame.is_none() && this.site.state().is_inert() {
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
        let saved = exception::enter(frame.recorded_below);
        let result = catch_unwind(AssertUnwindSafe(|| fut.poll(task)));
        frame.recorded_below = exception::current();
        match result {
            Ok(Poll::Pending) => {
                exception::leave(saved);
                drop(guard);
                Poll::Pending
            }
            Ok(Poll::Ready(out)) => {
                if let (Some(mut frame), Some(classify)) = (this.frame.take(), this.classify.take())
                {
                    frame.finish(classify(&out), false);
                }
                drop(guard);
                Poll::Ready(out)
            }
            Err(payload) => {
                if let Some(mut frame) = this.frame.take() {
                    frame.finish_panic(&*payload);
                }
                drop(guard);
                resume_unwind(payload)
            }
        }
    }
}
