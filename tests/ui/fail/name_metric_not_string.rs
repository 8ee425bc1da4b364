use instrument_errors::instrument_errors;

const NAME: &str = "acme.resource.create";

// Both mistakes are reported at once.
#[instrument_errors(name = NAME, metric = 3)]
fn create(id: &str) -> Result<usize, std::io::Error> {
    Ok(id.len())
}

#[instrument_errors(name = "")]
fn empty(id: &str) -> Result<usize, std::io::Error> {
    Ok(id.len())
}

fn main() {
    let _ = create("a");
    let _ = empty("a");
}
