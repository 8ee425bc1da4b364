//! Generics, where clauses, lifetimes (elided, named, `'_`, borrowed from
//! `&self`), `impl Trait` in argument and return position.

#![deny(warnings)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{Debug, Display};
use std::hash::Hash;

use instrument_errors::instrument_errors;

#[instrument_errors(attributes("key" = key.to_string()))]
fn lookup<K, V>(map: &HashMap<K, V>, key: &K) -> Result<V, String>
where
    K: Eq + Hash + Display,
    V: Clone,
{
    map.get(key).cloned().ok_or_else(|| format!("no {key}"))
}

#[instrument_errors]
fn longest<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[instrument_errors]
fn first_word(s: &str) -> &str {
    s.split(' ').next().unwrap_or_default()
}

#[instrument_errors]
fn normalize(s: &str) -> Cow<'_, str> {
    if s.contains(' ') {
        Cow::Owned(s.replace(' ', "_"))
    } else {
        Cow::Borrowed(s)
    }
}

#[instrument_errors]
fn parse_first(s: &str) -> Result<&str, std::num::ParseIntError> {
    let first = s.split(',').next().unwrap_or_default();
    first.parse::<u32>()?;
    Ok(first)
}

#[instrument_errors]
fn static_str() -> &'static str {
    "static"
}

#[instrument_errors]
fn sum(values: impl IntoIterator<Item = u32>, label: &impl Display) -> Result<u32, String> {
    let total: u32 = values.into_iter().sum();
    if total == 0 {
        Err(format!("{label}: empty"))
    } else {
        Ok(total)
    }
}

#[instrument_errors]
fn bytes(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes()
}

#[instrument_errors]
fn evens(n: u8) -> impl Iterator<Item = u8> {
    (0..n).filter(|x| x % 2 == 0)
}

#[instrument_errors]
fn boxed<'a, T: Debug + 'a>(items: &'a [T]) -> Box<dyn Iterator<Item = String> + 'a> {
    Box::new(items.iter().map(|i| format!("{i:?}")))
}

struct Arr<const N: usize>([u8; N]);

impl<const N: usize> Arr<N> {
    #[instrument_errors]
    fn get(&self, i: usize) -> Result<u8, String> {
        self.0.get(i).copied().ok_or_else(|| format!("{i} >= {N}"))
    }
}

struct Named {
    name: String,
}

impl Named {
    #[instrument_errors]
    fn name(&self) -> &str {
        &self.name
    }

    #[instrument_errors]
    fn name_mut(&mut self) -> &mut String {
        &mut self.name
    }

    #[instrument_errors]
    fn name_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        if self.name.is_empty() {
            fallback
        } else {
            &self.name
        }
    }

    #[instrument_errors]
    fn display(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    #[instrument_errors]
    fn parts(&self) -> Result<(&str, &str), String> {
        self.name
            .split_once('.')
            .ok_or_else(|| format!("{} has no dot", self.name))
    }
}

fn main() {
    let map = HashMap::from([("a".to_owned(), 1u32)]);
    assert_eq!(lookup(&map, &"a".to_owned()), Ok(1));
    assert!(lookup(&map, &"b".to_owned()).is_err());
    assert_eq!(longest("ab", "c"), "ab");
    assert_eq!(first_word("hello world"), "hello");
    assert_eq!(normalize("a b"), "a_b");
    assert_eq!(parse_first("12,3"), Ok("12"));
    assert!(parse_first("x,3").is_err());
    assert_eq!(static_str(), "static");
    assert_eq!(sum(vec![1, 2], &"s"), Ok(3));
    assert!(sum([], &"s").is_err());
    assert_eq!(bytes("ab").collect::<Vec<_>>(), b"ab");
    assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
    assert_eq!(boxed(&[1, 2]).collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(Arr([7, 8]).get(1), Ok(8));
    assert!(Arr([7, 8]).get(2).is_err());
    let mut named = Named {
        name: "a.b".to_owned(),
    };
    assert_eq!(named.name(), "a.b");
    named.name_mut().push('c');
    assert_eq!(named.name_or("x"), "a.bc");
    assert_eq!(named.display(), "a.bc");
    assert_eq!(named.parts(), Ok(("a", "bc")));
}
