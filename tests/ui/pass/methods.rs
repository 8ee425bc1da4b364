//! `&self`, `&mut self`, `self`, `self: Box<Self>`, associated functions,
//! trait implementations, default trait methods and generic trait methods.

#![deny(warnings)]

use instrument_errors::instrument_errors;

#[derive(Debug, PartialEq)]
struct Counter {
    n: u32,
}

impl Counter {
    #[instrument_errors]
    fn new() -> Self {
        Counter { n: 0 }
    }

    #[instrument_errors]
    fn get(&self) -> u32 {
        self.n
    }

    #[instrument_errors(error_if = |n: &u32| (*n > 2).then_some("overflow"))]
    fn bump(&mut self) -> u32 {
        self.n += 1;
        self.n
    }

    #[instrument_errors]
    fn into_inner(self) -> u32 {
        self.n
    }

    #[instrument_errors]
    fn boxed(self: Box<Self>) -> Result<u32, String> {
        Ok(self.n)
    }

    #[instrument_errors]
    fn reset(mut self) -> Self {
        self.n = 0;
        self
    }
}

trait Repo {
    fn load(&self, id: u32) -> Result<u32, String>;

    #[instrument_errors]
    fn load_twice(&self, id: u32) -> Result<u32, String> {
        Ok(self.load(id)? + self.load(id)?)
    }

    #[instrument_errors]
    fn load_all<I: IntoIterator<Item = u32>>(&self, ids: I) -> Result<Vec<u32>, String>
    where
        Self: Sized,
    {
        ids.into_iter().map(|id| self.load(id)).collect()
    }
}

struct Memory;

impl Repo for Memory {
    #[instrument_errors(kind = client)]
    fn load(&self, id: u32) -> Result<u32, String> {
        if id == 0 {
            Err("zero".to_owned())
        } else {
            Ok(id)
        }
    }
}

impl Iterator for Counter {
    type Item = u32;

    #[instrument_errors]
    fn next(&mut self) -> Option<u32> {
        (self.n < 3).then(|| {
            self.n += 1;
            self.n
        })
    }
}

fn main() {
    let mut c = Counter::new();
    assert_eq!(c.bump(), 1);
    assert_eq!(c.get(), 1);
    let c = c.reset();
    assert_eq!(Box::new(Counter { n: 4 }).boxed(), Ok(4));
    assert_eq!(c.collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(Counter { n: 9 }.into_inner(), 9);
    assert_eq!(Memory.load_twice(2), Ok(4));
    assert!(Memory.load_twice(0).is_err());
    assert_eq!(Memory.load_all([1, 2]), Ok(vec![1, 2]));
    let dyn_repo: &dyn Repo = &Memory;
    assert_eq!(dyn_repo.load_twice(1), Ok(2));
}
