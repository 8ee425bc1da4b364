//! A small storage service annotated with `#[instrument_errors]`; prints the
//! spans, metric points and log records it produces.

fn main() {
    println!("the example is being written");
}
