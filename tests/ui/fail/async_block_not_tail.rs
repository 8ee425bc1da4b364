use std::future::Future;
use std::pin::Pin;

use instrument_errors::instrument_errors;

// The `async` block is bound to a variable and returned after more
// statements: it is not the tail expression.
#[instrument_errors]
fn fetch(id: u32) -> Pin<Box<dyn Future<Output = Result<u32, std::io::Error>> + Send>> {
    let fut = async move { Ok(id) };
    Box::pin(fut)
}

fn main() {
    let _ = fetch(1);
}
