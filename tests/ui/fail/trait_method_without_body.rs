use instrument_errors::instrument_errors;

trait Repo {
    #[instrument_errors]
    fn load(&self, id: u32) -> Result<u32, std::io::Error>;
}

struct Memory;

impl Repo for Memory {
    fn load(&self, id: u32) -> Result<u32, std::io::Error> {
        Ok(id)
    }
}

fn main() {
    let _ = Memory.load(1);
}
