use instrument_errors::instrument_errors;

pub struct Repo {
    id: u32,
}

// Arguments that every method cannot share.
#[instrument_errors(name = "repo", metric = "repo.duration", attributes("repo.id" = self.id, "x" = id))]
impl Repo {
    fn get(&self, id: u32) -> u32 {
        self.id + id
    }
}

pub struct Other;

#[instrument_errors(skip)]
impl Other {
    fn a(&self) {}
}

#[instrument_errors]
impl Other {
    #[instrument_errors(skip, kind = client)]
    fn b(&self) {}

    #[instrument_errors(handled_attribute = "x.status")]
    fn c(&self) -> Result<(), std::io::Error> {
        Ok(())
    }
}

// `skip` outside an annotated impl block.
#[instrument_errors(skip)]
fn free() {}

fn main() {
    let _ = Repo { id: 1 }.get(2);
    Other.a();
    Other.b();
    let _ = Other.c();
    free();
}
