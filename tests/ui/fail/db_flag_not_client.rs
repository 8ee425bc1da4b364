use instrument_errors::instrument_errors;

// The `db` flag is for database client calls.
#[instrument_errors(kind = server, db)]
fn serve() -> Result<(), std::io::Error> {
    Ok(())
}

#[instrument_errors(db)]
fn internal() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {
    let _ = serve();
    let _ = internal();
}
