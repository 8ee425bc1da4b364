//! Issue 10, point 2: the signature alone decides the error type; the body
//! does not have to name it.

#![deny(warnings)]

use std::fmt::{Debug, Display};
use std::future::Future;
use std::num::ParseIntError;

use instrument_errors::instrument_errors;

#[instrument_errors]
fn string_error(x: usize) -> Result<impl Iterator<Item = usize>, String> {
    Ok(0..x)
}

#[instrument_errors]
fn str_error(x: usize) -> Result<impl Iterator<Item = usize>, &'static str> {
    Ok(0..x)
}

#[instrument_errors]
fn unit_error(x: usize) -> Result<impl Iterator<Item = usize>, ()> {
    Ok(0..x)
}

#[instrument_errors]
fn parse_error(x: usize) -> Result<impl Display, ParseIntError> {
    Ok(x)
}

#[instrument_errors]
fn anyhow_result(x: usize) -> anyhow::Result<impl Display> {
    Ok(x)
}

#[instrument_errors]
fn generic_error<E: Debug>(x: usize) -> Result<impl Display, E> {
    Ok(x)
}

#[instrument_errors]
fn vec_of_impl<E>(x: usize) -> Result<Vec<impl Display>, E> {
    Ok(vec![x])
}

#[instrument_errors]
async fn async_impl(x: usize) -> Result<impl Display, String> {
    Ok(x)
}

#[instrument_errors]
fn future_of_impl<E>(x: usize) -> impl Future<Output = Result<impl Display, E>> {
    async move { Ok(x) }
}

fn main() {
    let _ = string_error(1);
    let _ = str_error(1);
    let _ = unit_error(1);
    let _ = parse_error(1);
    let _ = anyhow_result(1);
    let _ = generic_error::<()>(1);
    let _ = vec_of_impl::<()>(1);
    drop(async_impl(1));
    drop(future_of_impl::<()>(1));
}
