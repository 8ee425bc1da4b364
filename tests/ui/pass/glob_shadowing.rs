//! Issue 10, point 6: a glob import in the body that shadows the return
//! type's name does not reach the expansion (tracing#3306).

#![deny(warnings)]
#![allow(dead_code)]

use std::future::Future;

use instrument_errors::instrument_errors;

type Foo = ();

enum Bar {
    Foo,
}

#[instrument_errors]
async fn async_fn() -> Foo {
    #[allow(unused_imports)]
    use Bar::*;
}

#[instrument_errors]
fn impl_future() -> impl Future<Output = Foo> {
    #[allow(unused_imports)]
    use Bar::*;
    async {}
}

#[instrument_errors]
fn sync_fn() -> Foo {
    #[allow(unused_imports)]
    use Bar::*;
}

fn main() {
    drop(async_fn());
    drop(impl_future());
    sync_fn();
}
