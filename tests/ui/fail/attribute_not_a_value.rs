use instrument_errors::instrument_errors;

#[derive(Debug)]
struct Id(u32);

#[instrument_errors(attributes("acme.resource.id" = id, "acme.count" = n))]
fn load(id: Id, n: u32) -> Result<u32, std::io::Error> {
    Ok(id.0 + n)
}

#[instrument_errors(attributes("acme.tags" = tags))]
fn tag(tags: Vec<String>) -> Result<usize, std::io::Error> {
    Ok(tags.len())
}

fn main() {
    let _ = load(Id(1), 2);
    let _ = tag(vec![]);
}
