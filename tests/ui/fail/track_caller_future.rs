use futures::future::BoxFuture;
use instrument_errors::instrument_errors;

// `#[track_caller]` does not reach into the returned future, where the
// operation runs.
#[instrument_errors]
#[track_caller]
fn fetch(n: u8) -> BoxFuture<'static, u8> {
    Box::pin(async move { n })
}

fn main() {
    drop(fetch(1));
}
