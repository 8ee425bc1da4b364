use std::future::{Future, Ready};

use instrument_errors::instrument_errors;

// A future of a named type that is not a boxed `dyn Future`: the attribute
// cannot return it instrumented in its own type.
#[instrument_errors]
fn ready(n: u8) -> Ready<u8> {
    std::future::ready(n)
}

#[instrument_errors]
fn generic<F: Future<Output = u8>>(f: F) -> F {
    f
}

fn main() {
    let _ = ready(1);
    let _ = generic(std::future::ready(1));
}
