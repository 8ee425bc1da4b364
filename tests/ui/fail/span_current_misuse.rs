use instrument_errors::instrument_errors;

// Written below `#[tracing::instrument]`: cannot reach its span.
#[tracing::instrument]
#[instrument_errors(span = current)]
fn wrong_order() -> Result<(), std::io::Error> {
    Ok(())
}

// No `#[tracing::instrument]` at all.
#[instrument_errors(span = current)]
fn no_tracing_span() -> Result<(), std::io::Error> {
    Ok(())
}

// The span is not ours to name.
#[instrument_errors(span = current, name = "job", kind = server)]
#[tracing::instrument]
fn named() -> Result<(), std::io::Error> {
    Ok(())
}

#[instrument_errors(span = parent)]
#[tracing::instrument]
fn other_value() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {
    let _ = wrong_order();
    let _ = no_tracing_span();
    let _ = named();
    let _ = other_value();
}
