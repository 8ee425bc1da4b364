//! Choosing, from a function's declared return type, how a call is
//! instrumented: as a synchronous call, or as the future it returns.
//!
//! A return type written `impl Future<..>` is seen by the attribute itself.
//! A named type (`Pin<Box<dyn Future<..> + Send>>`, or an alias such as
//! `futures::future::BoxFuture<'_, T>`) is not: the expansion asks the type
//! system instead, with the autoref-based specialization technique, through
//! [`Select`]:
//!
//! 1. a boxed `dyn Future` (with or without `Send`) is a future the runtime
//!    can wrap: the body builds it, outside the span, and the runtime returns
//!    it instrumented (span and clock from its first poll to its completion);
//! 2. any other type that implements `Future` (a `JoinHandle`, a future
//!    struct, a generic `F: Future`) cannot be wrapped in its own type, so it
//!    is a compile error that says what to write;
//! 3. every other type is a synchronous call.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use crate::classify::Verdict;
use crate::entry::{After, Eager, Entry, SpanAttributes, Start};
use crate::frame::Frame;
use crate::site::CallSite;

/// The declared return type `R` of an instrumented function, for method
/// resolution. Call as `(&&Select::<R>::NEW).ie_call(..)`.
pub struct Select<R: ?Sized>(PhantomData<fn() -> PhantomData<R>>);

impl<R: ?Sized> Select<R> {
    /// The selector for `R`.
    pub const NEW: Self = Select(PhantomData);
}

impl<R: ?Sized> Clone for Select<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R: ?Sized> Copy for Select<R> {}

/// Runs a synchronous call: the fallback for every return type that is not a
/// future.
pub trait ViaSync<R> {
    /// Starts the call (see [`CallSite::start`]); its `attributes(..)` are
    /// evaluated only for a span that records.
    fn ie_start<E: Start>(self, site: &'static CallSite, entry: E) -> Frame;

    /// Starts the call of a `#[track_caller]` function, whose body runs
    /// inline (see [`crate::__private::InlineFrame`]).
    fn ie_start_inline<E: Start>(self, site: &'static CallSite, entry: E) -> Frame;

    /// Runs `body` as the call `frame` (see [`Frame::run`]).
    fn ie_run<B, C, H>(self, frame: Frame, body: B, classify: C, after: H) -> R
    where
        B: FnOnce() -> R,
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
        H: FnOnce(&R, &mut After<'_>);
}

impl<R> ViaSync<R> for Select<R> {
    #[inline(always)]
    fn ie_start<E: Start>(self, site: &'static CallSite, entry: E) -> Frame {
        entry.start(site)
    }

    #[inline(always)]
    fn ie_start_inline<E: Start>(self, site: &'static CallSite, entry: E) -> Frame {
        entry.start(site)
    }

    #[inline(always)]
    fn ie_run<B, C, H>(self, frame: Frame, body: B, classify: C, after: H) -> R
    where
        B: FnOnce() -> R,
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
        H: FnOnce(&R, &mut After<'_>),
    {
        Frame::run(frame, body, classify, after)
    }
}

/// A future of a named type that the runtime cannot return in its own type.
#[diagnostic::on_unimplemented(
    message = "`#[instrument_errors]` cannot instrument a function returning the future type `{Self}`",
    label = "the future this function returns would be timed while it is built, not while it runs",
    note = "return `impl Future<Output = ..>` (or make it an `async fn`), or a boxed future \
            (`Pin<Box<dyn Future<Output = ..> + Send + '_>>`, `BoxFuture<'_, ..>`): the attribute \
            then instruments the returned future from its first poll to its completion"
)]
pub trait UnsupportedFutureType {}

/// A future returned by a `#[track_caller]` function.
#[diagnostic::on_unimplemented(
    message = "`#[instrument_errors]` cannot instrument a `#[track_caller]` function returning the future `{Self}`",
    label = "`#[track_caller]` does not reach into the future, which is where the operation runs",
    note = "remove `#[track_caller]`: the returned future is then instrumented from its first poll to its completion"
)]
pub trait TrackCallerFuture {}

/// The error branch for futures of a named type (see [`UnsupportedFutureType`]).
pub trait ViaNamedFuture<R> {
    /// Never callable: its bound is never met.
    fn ie_start<E>(self, site: &'static CallSite, entry: E)
    where
        R: UnsupportedFutureType;

    /// Never callable: its bound is never met.
    fn ie_start_inline<E>(self, site: &'static CallSite, entry: E) -> Frame
    where
        R: UnsupportedFutureType;

    /// Never callable: its bound is never met.
    fn ie_run<B, C, H>(self, started: (), body: B, classify: C, after: H) -> R
    where
        R: UnsupportedFutureType,
        B: FnOnce() -> R,
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
        H: FnOnce(&R, &mut After<'_>);
}

impl<R: Future> ViaNamedFuture<R> for &Select<R> {
    fn ie_start<E>(self, _: &'static CallSite, _: E)
    where
        R: UnsupportedFutureType,
    {
    }

    fn ie_start_inline<E>(self, _: &'static CallSite, _: E) -> Frame
    where
        R: UnsupportedFutureType,
    {
        unreachable!("no type implements UnsupportedFutureType")
    }

    fn ie_run<B, C, H>(self, (): (), _: B, _: C, _: H) -> R
    where
        R: UnsupportedFutureType,
        B: FnOnce() -> R,
        C: for<'a> FnOnce(&'a R) -> Verdict<'a>,
        H: FnOnce(&R, &mut After<'_>),
    {
        // `UnsupportedFutureType` has no implementation: never called.
        unreachable!("no type implements UnsupportedFutureType")
    }
}

macro_rules! boxed_future {
    ($trait:ident, $($bounds:tt)*) => {
        /// Instruments a returned boxed `dyn Future`.
        pub trait $trait<'f, T> {
            /// Evaluates the span attributes, when the future is built.
            fn ie_start<A, M, P, L>(
                self,
                site: &'static CallSite,
                entry: Entry<A, M, P, L>,
            ) -> (&'static CallSite, Entry<Eager<A::Iter>, M, P, L>)
            where
                A: SpanAttributes;

            /// Never callable: its bound is never met.
            fn ie_start_inline<E>(self, site: &'static CallSite, entry: E) -> Frame
            where
                Pin<Box<dyn Future<Output = T> $($bounds)* + 'f>>: TrackCallerFuture;

            /// Builds the future with `body` (outside the span) and returns it
            /// instrumented.
            fn ie_run<E, B, C, H>(
                self,
                started: (&'static CallSite, E),
                body: B,
                classify: C,
                after: H,
            ) -> Pin<Box<dyn Future<Output = T> $($bounds)* + 'f>>
            where
                E: Start $($bounds)* + 'f,
                B: FnOnce() -> Pin<Box<dyn Future<Output = T> $($bounds)* + 'f>>,
                C: for<'a> FnOnce(&'a T) -> Verdict<'a> $($bounds)* + 'f,
                H: FnOnce(&T, &mut After<'_>) $($bounds)* + 'f;
        }

        impl<'f, T: 'f> $trait<'f, T> for &&Select<Pin<Box<dyn Future<Output = T> $($bounds)* + 'f>>> {
            #[inline(always)]
            fn ie_start<A, M, P, L>(
                self,
                site: &'static CallSite,
                entry: Entry<A, M, P, L>,
            ) -> (&'static CallSite, Entry<Eager<A::Iter>, M, P, L>)
            where
                A: SpanAttributes,
            {
                (site, entry.into_eager())
            }

            fn ie_start_inline<E>(self, _: &'static CallSite, _: E) -> Frame
            where
                Pin<Box<dyn Future<Output = T> $($bounds)* + 'f>>: TrackCallerFuture,
            {
                unreachable!("no type implements TrackCallerFuture")
            }

            #[inline(always)]
            fn ie_run<E, B, C, H>(
                self,
                (site, entry): (&'static CallSite, E),
                body: B,
                classify: C,
                after: H,
            ) -> Pin<Box<dyn Future<Output = T> $($bounds)* + 'f>>
            where
                E: Start $($bounds)* + 'f,
                B: FnOnce() -> Pin<Box<dyn Future<Output = T> $($bounds)* + 'f>>,
                C: for<'a> FnOnce(&'a T) -> Verdict<'a> $($bounds)* + 'f,
                H: FnOnce(&T, &mut After<'_>) $($bounds)* + 'f,
            {
                Box::pin(CallSite::instrument(site, entry, body(), classify, after))
            }
        }
    };
}

boxed_future!(ViaBoxedSendFuture, + Send);
boxed_future!(ViaBoxedLocalFuture,);

/// The body of a call as an `FnOnce` closure: a closure that reborrows what it
/// captured (`&mut self.field`) can then return the borrow.
#[inline(always)]
pub fn once<R, B: FnOnce() -> R>(body: B) -> B {
    body
}

/// Gives a future its expected output type `O`, so that `?` and `return` in
/// an `async` block infer as they do where the function's return type is
/// the expectation.
#[inline(always)]
pub fn typed_future<O, F: Future<Output = O>>(future: F) -> F {
    future
}

/// The value as the declared type `T`: a function argument is a coercion
/// site, so `ret::<&str>(&string)` derefs and `ret::<Box<dyn Trait>>(boxed)`
/// unsizes, as the tail and the `return`s of a function with that return
/// type do. The expansion passes the body of an `async fn` and the value of
/// each of its `return`s through it (an `async` block has no declared type).
#[inline(always)]
pub fn ret<T>(value: T) -> T {
    value
}

/// [`typed_future`] with the output type carried by a marker value, for
/// places where the type cannot be spelled.
#[inline(always)]
pub fn typed_future_as<O, F: Future<Output = O>>(_: PhantomData<O>, future: F) -> F {
    future
}

/// Builds a returned `impl Future<Output = O>` with `body`, its output type
/// `O` expected (a `return` in the body leaves `body`, not the function).
#[inline(always)]
pub fn typed_future_from<O, F: Future<Output = O>, B: FnOnce() -> F>(body: B) -> F {
    body()
}

/// Builds a returned `impl IntoFuture<Output = O>` with `body` and turns it
/// into its future, its output type `O` expected.
#[inline(always)]
pub fn typed_into_future_from<O, F, B>(body: B) -> F::IntoFuture
where
    F: IntoFuture<Output = O>,
    B: FnOnce() -> F,
{
    body().into_future()
}

/// The marker for [`typed_future_as`]: the output type of the future type `F`.
#[inline(always)]
pub const fn output_of<F: Future + ?Sized>() -> PhantomData<F::Output> {
    PhantomData
}

#[cfg(test)]
// The borrows select the branch under test.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;
    use crate::site::{Info, Kind};

    static SITE: CallSite = CallSite::new(Info::for_test("t", "t", Kind::Internal));

    type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

    fn block_on<F: Future>(f: F) -> F::Output {
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn sync_types_run_the_body() {
        let frame = (&&Select::<u8>::NEW).ie_start(&SITE, Entry::lazy(|| []));
        let out = (&&Select::<u8>::NEW).ie_run(frame, || 7, |_| Verdict::Success, |_, _| {});
        assert_eq!(out, 7);
    }

    #[test]
    fn boxed_futures_are_returned_boxed() {
        let started = (&&Select::<BoxFut<u8>>::NEW).ie_start(&SITE, Entry::lazy(|| []));
        let fut: BoxFut<u8> = (&&Select::<BoxFut<u8>>::NEW).ie_run(
            started,
            || Box::pin(async { 9 }),
            |_: &u8| Verdict::Success,
            |_, _| {},
        );
        assert_eq!(block_on(fut), 9);
    }

    #[test]
    fn local_boxed_futures_too() {
        type Local<T> = Pin<Box<dyn Future<Output = T>>>;
        let rc = std::rc::Rc::new(3u8);
        let started = (&&Select::<Local<u8>>::NEW).ie_start(&SITE, Entry::lazy(|| []));
        let fut: Local<u8> = (&&Select::<Local<u8>>::NEW).ie_run(
            started,
            move || Box::pin(async move { *rc }),
            |_| Verdict::Success,
            |_, _| {},
        );
        assert_eq!(block_on(fut), 3);
    }
}
