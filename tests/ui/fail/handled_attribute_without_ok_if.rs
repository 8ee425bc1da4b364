use instrument_errors::instrument_errors;

// `handled_attribute` names the attribute a handled error sets: without
// `ok_if`, no error is ever handled.
#[instrument_errors(name = "acme.resource.create", handled_attribute = "acme.resource.create.status")]
fn create(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

fn is_exists(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::AlreadyExists
}

// A string literal, like the other names.
#[instrument_errors(ok_if = is_exists, handled_attribute = acme.resource.create.status)]
fn create2(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

fn main() {
    let _ = create(1);
    let _ = create2(1);
}
