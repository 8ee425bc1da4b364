//! Issue 10: the signature alone decides how a call is recorded, whatever
//! the body looks like: futures behind aliases and built by any tail are
//! instrumented from first poll to completion; `Result<impl Trait, E>` is
//! classified by `E`; the body's own `use` items and the traits in scope do
//! not reach the expansion; `#[track_caller]` and inner attributes keep
//! working. Read back from the SDK's in-memory exporters.

#![deny(warnings)]

use std::fmt::Display;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt as _, LocalBoxFuture};
use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, error_description, telemetry};
use opentelemetry::trace::Status;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

#[derive(Debug, ErrorType)]
pub enum MyError {
    Broken,
}

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("it broke")
    }
}

impl std::error::Error for MyError {}

fn error_type(span: &SpanData) -> Option<String> {
    attr(span, "error.type").map(|v| v.to_string())
}

fn failed_with(name: &str, error_type_value: &str) -> SpanData {
    let span = telemetry().span(name);
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{name}: {:?}",
        span.status
    );
    assert_eq!(
        error_type(&span).as_deref(),
        Some(error_type_value),
        "{name}"
    );
    let points = telemetry().points("function.duration", &[("error.type", error_type_value)]);
    assert!(
        points.iter().any(|p| p
            .get("code.function.name")
            .is_some_and(|f| f.ends_with(name))),
        "{name}: no metric point with error.type {error_type_value}"
    );
    span
}

fn succeeded(name: &str) -> SpanData {
    let span = telemetry().span(name);
    assert_eq!(span.status, Status::Unset, "{name}");
    assert_eq!(error_type(&span), None, "{name}");
    span
}

fn duration(span: &SpanData) -> Duration {
    span.end_time
        .duration_since(span.start_time)
        .expect("ends after it starts")
}

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(f)
}

// Point 2: the error type comes from the signature, even when the body never
// names it.

#[instrument_errors]
fn range_or_string(x: usize) -> Result<impl Iterator<Item = usize>, String> {
    if x == 0 {
        return Err("empty".into());
    }
    Ok(0..x)
}

#[instrument_errors(error_type = |_| "static_str")]
fn vec_of_displays(fail: bool) -> Result<Vec<impl Display>, &'static str> {
    if fail {
        Err("nope")
    } else {
        Ok(vec![1, 2])
    }
}

#[instrument_errors]
async fn async_impl_display(fail: bool) -> Result<impl Display, MyError> {
    if fail {
        Err(MyError::Broken)?;
    }
    Ok(3)
}

#[instrument_errors]
fn impl_future_of_impl(fail: bool) -> impl Future<Output = Result<impl Display, MyError>> {
    async move {
        if fail {
            return Err(MyError::Broken);
        }
        Ok("fine")
    }
}

#[test]
fn result_of_impl_trait_is_classified_by_the_signature() {
    telemetry();
    assert_eq!(range_or_string(3).map(Iterator::count), Ok(3));
    assert!(range_or_string(0).is_err());
    let spans = telemetry().spans_named("range_or_string");
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].status, Status::Unset);
    assert_eq!(error_description(&spans[1]).as_deref(), Some("empty"));
    assert!(error_type(&spans[1]).is_some());

    assert_eq!(vec_of_displays(true).err(), Some("nope"));
    failed_with("vec_of_displays", "static_str");

    assert!(block_on(async_impl_display(true)).is_err());
    failed_with("async_impl_display", "broken");
    assert!(block_on(impl_future_of_impl(true)).is_err());
    failed_with("impl_future_of_impl", "broken");
}

// Points 3, 4, 5: futures behind aliases and built by any tail expression.

type Fut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[instrument_errors]
fn box_future_alias(n: u32) -> BoxFuture<'static, Result<u32, MyError>> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if n == 0 {
            Err(MyError::Broken)
        } else {
            Ok(n)
        }
    })
}

#[instrument_errors]
fn local_alias(n: u32) -> Fut<Result<u32, MyError>> {
    Box::pin(async move {
        if n == 0 {
            Err(MyError::Broken)
        } else {
            Ok(n)
        }
    })
}

#[instrument_errors]
fn boxed_with_combinator() -> BoxFuture<'static, Result<u8, MyError>> {
    async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(MyError::Broken)
    }
    .boxed()
}

#[instrument_errors]
fn local_boxed() -> LocalBoxFuture<'static, Result<u8, MyError>> {
    let rc = std::rc::Rc::new(1u8);
    async move {
        if *rc == 1 {
            Err(MyError::Broken)
        } else {
            Ok(*rc)
        }
    }
    .boxed_local()
}

#[instrument_errors]
fn ready_future(n: u32) -> impl Future<Output = u32> {
    std::future::ready(n)
}

#[instrument_errors]
fn pin_box_dyn_boxed(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    async move { n }.boxed()
}

#[instrument_errors]
fn cast_box(n: u8) -> Pin<Box<dyn Future<Output = u8>>> {
    Box::pin(async move { n }) as Pin<Box<dyn Future<Output = u8>>>
}

async fn inner_call(n: u32) -> Result<u32, MyError> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if n == 0 {
        Err(MyError::Broken)
    } else {
        Ok(n)
    }
}

#[instrument_errors]
fn call_tail(n: u32) -> impl Future<Output = Result<u32, MyError>> {
    inner_call(n + 1)
}

#[instrument_errors]
fn early_return(n: u32) -> BoxFuture<'static, Result<u32, MyError>> {
    if n == 0 {
        return async { Err(MyError::Broken) }.boxed();
    }
    Box::pin(async move { Ok(n) })
}

#[test]
fn futures_are_instrumented_whatever_builds_them() {
    telemetry();
    // Built, then held before the first poll: the span covers only the run.
    let fut = box_future_alias(0);
    std::thread::sleep(Duration::from_millis(50));
    let polled = std::time::SystemTime::now();
    assert!(block_on(fut).is_err());
    let span = failed_with("box_future_alias", "broken");
    assert!(
        span.start_time >= polled,
        "the span starts at the first poll, not when built"
    );
    let d = duration(&span);
    assert!(
        d >= Duration::from_millis(20),
        "the span covers the awaited sleep: {d:?}"
    );

    assert_eq!(
        block_on(local_alias(0)).err().map(|e| e.to_string()),
        Some("it broke".into())
    );
    failed_with("local_alias", "broken");

    // Issue 10 point 4: `.boxed()` behind an alias lost the error before.
    assert!(block_on(boxed_with_combinator()).is_err());
    let span = failed_with("boxed_with_combinator", "broken");
    assert!(duration(&span) >= Duration::from_millis(20));
    assert_eq!(error_description(&span).as_deref(), Some("it broke"));

    assert!(block_on(local_boxed()).is_err());
    failed_with("local_boxed", "broken");

    assert_eq!(block_on(ready_future(4)), 4);
    succeeded("ready_future");
    assert_eq!(block_on(pin_box_dyn_boxed(5)), 5);
    succeeded("pin_box_dyn_boxed");
    assert_eq!(block_on(cast_box(6)), 6);
    succeeded("cast_box");

    assert_eq!(block_on(call_tail(0)).ok(), Some(1));
    let span = succeeded("call_tail");
    assert!(duration(&span) >= Duration::from_millis(20));

    assert!(block_on(early_return(0)).is_err());
    assert_eq!(block_on(early_return(2)).ok(), Some(2));
    let spans = telemetry().spans_named("early_return");
    assert_eq!(spans.len(), 2);
    assert!(matches!(spans[0].status, Status::Error { .. }));
    assert_eq!(spans[1].status, Status::Unset);
}

// Point 6: a glob import in the body shadows the return type's name.
mod shadowing {
    use instrument_errors::instrument_errors;
    use std::future::Future;

    pub type Foo = u8;

    #[allow(dead_code)]
    pub enum Bar {
        Foo,
    }

    #[instrument_errors(name = "glob_async")]
    pub async fn glob_async() -> Foo {
        #[allow(unused_imports)]
        use Bar::*;
        7
    }

    #[instrument_errors(name = "glob_impl_future")]
    pub fn glob_impl_future() -> impl Future<Output = Foo> {
        #[allow(unused_imports)]
        use Bar::*;
        async { 8 }
    }

    #[instrument_errors(name = "glob_sync")]
    pub fn glob_sync() -> Foo {
        #[allow(unused_imports)]
        use Bar::*;
        9
    }
}

// Point 7: traits in scope with methods of the same name as the runtime's.
mod traits_in_scope {
    #![allow(dead_code)]
    use instrument_errors::instrument_errors;
    #[allow(unused_imports)]
    use tracing::Instrument;

    pub trait Capture: Sized {
        fn start(self, _: u8) -> Self {
            self
        }
        fn run(self, _: u8, _: u8) -> Self {
            self
        }
        fn instrument(self, _: u8, _: u8, _: u8) -> Self {
            self
        }
        fn finish(self) -> Self {
            self
        }
    }
    impl<T> Capture for T {}

    #[instrument_errors(name = "traits_async")]
    pub async fn traits_async(n: u8) -> Result<u8, super::MyError> {
        Ok(n)
    }

    #[instrument_errors(name = "traits_sync")]
    pub fn traits_sync(n: u8) -> Result<u8, super::MyError> {
        if n == 0 {
            Err(super::MyError::Broken)
        } else {
            Ok(n)
        }
    }
}

#[test]
fn items_in_scope_do_not_reach_the_expansion() {
    telemetry();
    assert_eq!(block_on(shadowing::glob_async()), 7);
    succeeded("glob_async");
    assert_eq!(block_on(shadowing::glob_impl_future()), 8);
    succeeded("glob_impl_future");
    assert_eq!(shadowing::glob_sync(), 9);
    succeeded("glob_sync");
    assert_eq!(block_on(traits_in_scope::traits_async(1)).ok(), Some(1));
    succeeded("traits_async");
    assert!(traits_in_scope::traits_sync(0).is_err());
    failed_with("traits_sync", "broken");
}

// Point 8: `#[track_caller]`.

#[instrument_errors]
#[track_caller]
fn caller_location() -> &'static Location<'static> {
    Location::caller()
}

#[instrument_errors]
#[track_caller]
fn parse_at_caller(s: &str) -> Result<(u8, u32), MyError> {
    if s.is_empty() {
        return Err(MyError::Broken);
    }
    let v: u8 = s.parse().map_err(|_| MyError::Broken)?;
    Ok((v, Location::caller().line()))
}

#[instrument_errors]
#[track_caller]
fn unwrap_at_caller(v: Option<u8>) -> u8 {
    v.expect("a value")
}

#[test]
fn track_caller_reaches_the_caller() {
    telemetry();
    let (here, line) = (caller_location(), line!());
    assert_eq!((here.file(), here.line()), (file!(), line));
    succeeded("caller_location");

    assert_eq!(parse_at_caller("7").ok(), Some((7, line!())));
    assert!(parse_at_caller("").is_err());
    assert!(parse_at_caller("x").is_err());
    let spans = telemetry().spans_named("parse_at_caller");
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0].status, Status::Unset);
    for failed in &spans[1..] {
        assert_eq!(error_type(failed).as_deref(), Some("broken"));
        assert_eq!(error_description(failed).as_deref(), Some("it broke"));
    }

    let panicked = std::panic::catch_unwind(|| unwrap_at_caller(None));
    assert!(panicked.is_err());
    let span = telemetry().span("unwrap_at_caller");
    assert_eq!(attr(&span, "error.type"), Some(Value::from("panic")));
}

// Point 1: inner attributes stay first in the body.
#[deny(unused_variables)]
#[instrument_errors]
fn inner_attribute() -> u8 {
    #![allow(unused_variables)]
    let i = 42;
    1
}

#[test]
fn inner_attributes_apply_to_the_body() {
    telemetry();
    assert_eq!(inner_attribute(), 1);
    succeeded("inner_attribute");
}

// `result_attributes` through every path of the expansion.

fn answer_attributes<T>(out: &Result<u8, T>) -> Vec<opentelemetry::KeyValue> {
    vec![opentelemetry::KeyValue::new(
        "answer",
        i64::from(*out.as_ref().unwrap_or(&0)),
    )]
}

#[instrument_errors(result_attributes = answer_attributes)]
fn ra_boxed(n: u8) -> BoxFuture<'static, Result<u8, MyError>> {
    async move { Ok(n) }.boxed()
}

#[instrument_errors(result_attributes = answer_attributes)]
fn ra_in_place(n: u8) -> BoxFuture<'static, Result<u8, MyError>> {
    Box::pin(async move { Ok(n) })
}

#[instrument_errors(result_attributes = answer_attributes)]
fn ra_impl_future(n: u8) -> impl Future<Output = Result<u8, MyError>> {
    std::future::ready(Ok(n))
}

#[instrument_errors(result_attributes = answer_attributes)]
#[track_caller]
fn ra_track_caller(n: u8) -> Result<u8, MyError> {
    if n == 0 {
        return Err(MyError::Broken);
    }
    Ok(n)
}

#[instrument_errors(result_attributes = |out: &Result<Vec<_>, String>| {
    vec![opentelemetry::KeyValue::new("answer", i64::from(out.is_ok()))]
})]
fn ra_opaque(n: u8) -> Result<Vec<impl Display>, String> {
    Ok(vec![n])
}

#[test]
fn result_attributes_on_every_path() {
    telemetry();
    let answer = |name: &str| attr(&telemetry().span(name), "answer");
    assert_eq!(block_on(ra_boxed(3)).ok(), Some(3));
    assert_eq!(answer("ra_boxed"), Some(Value::I64(3)));
    assert_eq!(block_on(ra_in_place(4)).ok(), Some(4));
    assert_eq!(answer("ra_in_place"), Some(Value::I64(4)));
    assert_eq!(block_on(ra_impl_future(5)).ok(), Some(5));
    assert_eq!(answer("ra_impl_future"), Some(Value::I64(5)));
    assert_eq!(ra_track_caller(6).ok(), Some(6));
    assert_eq!(answer("ra_track_caller"), Some(Value::I64(6)));
    assert!(ra_opaque(1).is_ok());
    assert_eq!(answer("ra_opaque"), Some(Value::I64(1)));
}
