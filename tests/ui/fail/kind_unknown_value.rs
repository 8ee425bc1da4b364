use instrument_errors::instrument_errors;

#[instrument_errors(kind = Client)]
fn fetch(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

#[instrument_errors(kind = "server")]
fn serve(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

fn main() {
    let _ = fetch(1);
    let _ = serve(1);
}
