use instrument_errors::instrument_errors;

#[instrument_errors(name = "a", kind = client, name = "b")]
fn create(id: &str) -> Result<usize, std::io::Error> {
    Ok(id.len())
}

fn main() {
    let _ = create("a");
}
