use std::future::Future;

use instrument_errors::instrument_errors;

async fn inner(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

// The body builds the future with a call: instrumenting it would time the
// construction of the future, not the operation.
#[instrument_errors]
fn fetch(id: u32) -> impl Future<Output = Result<u32, std::io::Error>> {
    inner(id + 1)
}

fn main() {
    let _ = fetch(1);
}
