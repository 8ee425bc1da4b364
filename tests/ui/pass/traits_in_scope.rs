//! Issue 10, point 7: traits in scope whose methods are named like the
//! runtime's (`tracing::Instrument::instrument`, implemented for every type)
//! do not capture the expansion's calls.

#![deny(warnings)]
#![allow(dead_code)]

use instrument_errors::instrument_errors;
#[allow(unused_imports)]
use tracing::Instrument;

trait Everything: Sized {
    fn start(self) -> Self {
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
impl<T> Everything for T {}

#[instrument_errors]
async fn async_fn(n: u8) -> Result<u8, std::io::Error> {
    Ok(n)
}

#[instrument_errors]
fn sync_fn(n: u8) -> Result<u8, std::io::Error> {
    Ok(n)
}

#[instrument_errors]
fn boxed(n: u8) -> futures::future::BoxFuture<'static, u8> {
    Box::pin(async move { n })
}

fn main() {
    drop(async_fn(1));
    let _ = sync_fn(1);
    drop(boxed(1));
}
