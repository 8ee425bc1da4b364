use instrument_errors::instrument_errors;

#[instrument_errors]
#[derive(Debug)]
pub struct Store {
    id: u32,
}

impl Store {
    fn id(&self) -> u32 {
        self.id
    }
}

#[instrument_errors]
mod inner {}

fn main() {
    let store = Store { id: 1 };
    let _ = store.id();
}
