use instrument_errors::instrument_errors;

// A trait method declaration has no body to instrument: the attribute goes on
// the implementations (or on a default method with a body).
trait Repo {
    #[instrument_errors]
    async fn load(&self, id: u32) -> Result<u32, std::io::Error>;
}

fn main() {}
