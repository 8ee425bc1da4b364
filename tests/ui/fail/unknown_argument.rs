use instrument_errors::instrument_errors;

// A misspelt argument: one error at the argument, listing the accepted ones.
// The function is still emitted unchanged, so its callers compile and report
// nothing (no cascade of "cannot find function" errors).
#[instrument_errors(nmae = "acme.resource.create")]
fn create(id: &str) -> Result<usize, std::io::Error> {
    Ok(id.len())
}

struct Store;

impl Store {
    #[instrument_errors(kind = client, retries = 3)]
    fn get(&self, id: u32) -> Result<u32, std::io::Error> {
        Ok(id)
    }
}

fn main() {
    let _ = create("a");
    let _ = Store.get(1);
}
