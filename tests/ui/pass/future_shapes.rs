//! Issue 10, points 3 to 5: a function whose return type is a future, named
//! or not, has its returned future instrumented, whatever the tail
//! expression that builds it.

#![deny(warnings)]

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::future::{BoxFuture, FutureExt as _, LocalBoxFuture};
use instrument_errors::{instrument_errors, ErrorType};

#[derive(Debug, ErrorType)]
struct MyError;

type Fut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[instrument_errors]
fn alias_box_pin(n: u32) -> BoxFuture<'static, Result<u32, MyError>> {
    Box::pin(async move { Ok(n) })
}

#[instrument_errors]
fn local_alias(n: u32) -> Fut<Result<u32, MyError>> {
    Box::pin(async move { Ok(n) })
}

#[instrument_errors]
fn alias_boxed() -> BoxFuture<'static, Result<u8, MyError>> {
    async move { Err(MyError) }.boxed()
}

#[instrument_errors]
fn local_box(s: &str) -> LocalBoxFuture<'_, Result<usize, MyError>> {
    async move { Ok(s.len()) }.boxed_local()
}

#[instrument_errors]
fn ready(n: u32) -> impl Future<Output = u32> {
    std::future::ready(n)
}

#[instrument_errors]
fn pin_box_boxed(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    async move { n }.boxed()
}

#[instrument_errors]
fn cast(n: u8) -> Pin<Box<dyn Future<Output = u8>>> {
    Box::pin(async move { n }) as Pin<Box<dyn Future<Output = u8>>>
}

#[instrument_errors]
fn into_future(n: u8) -> impl IntoFuture<Output = u8> {
    async move { n }
}

#[instrument_errors]
fn question_mark_inside(s: String) -> impl Future<Output = Result<u8, std::num::ParseIntError>> {
    async move {
        let n: u8 = s.parse()?;
        Ok(n)
    }
}

fn main() {
    drop(alias_box_pin(1));
    drop(local_alias(1));
    drop(alias_boxed());
    drop(local_box("a"));
    drop(ready(1));
    drop(pin_box_boxed(1));
    drop(cast(1));
    drop(into_future(1).into_future());
    drop(question_mark_inside("1".into()));
}
