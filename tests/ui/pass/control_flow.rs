//! Early `return`, `?` with a `From` conversion, `?` on `Option`, loops with
//! `break` values and labelled blocks inside the body.

#![deny(warnings)]

use std::fmt;
use std::num::ParseIntError;

use instrument_errors::{instrument_errors, ErrorType};

#[derive(Debug, ErrorType)]
enum AppError {
    Parse(ParseIntError),
    Negative,
}

impl From<ParseIntError> for AppError {
    fn from(e: ParseIntError) -> Self {
        AppError::Parse(e)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Parse(e) => write!(f, "parse: {e}"),
            AppError::Negative => f.write_str("negative"),
        }
    }
}

impl std::error::Error for AppError {}

#[instrument_errors]
fn parse(s: &str) -> Result<i64, AppError> {
    if s.is_empty() {
        return Ok(0);
    }
    let n: i64 = s.trim().parse()?;
    if n < 0 {
        return Err(AppError::Negative);
    }
    Ok(n)
}

#[instrument_errors]
fn boxed(s: &str) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let n = parse(s)?;
    Ok(n * 2)
}

#[instrument_errors]
fn first_even(values: &[i64]) -> Option<i64> {
    let first = *values.first()?;
    for &v in values {
        if v % 2 == 0 {
            return Some(v);
        }
    }
    Some(first)
}

#[instrument_errors]
fn search(values: &[u8], wanted: u8) -> Result<usize, String> {
    let mut i = 0;
    let found = loop {
        if i == values.len() {
            break None;
        }
        if values[i] == wanted {
            break Some(i);
        }
        i += 1;
    };
    let index = 'check: {
        if let Some(index) = found {
            break 'check index;
        }
        return Err(format!("{wanted} not found"));
    };
    Ok(index)
}

#[instrument_errors]
fn nothing(flag: bool) {
    if flag {
        return;
    }
    let _ = flag;
}

#[instrument_errors]
fn diverges(flag: bool) -> Result<u8, String> {
    if flag {
        return Ok(1);
    }
    Err("no".into())
}

fn main() {
    assert_eq!(parse("").unwrap(), 0);
    assert_eq!(parse(" 7 ").unwrap(), 7);
    assert!(matches!(parse("x"), Err(AppError::Parse(_))));
    assert!(matches!(parse("-1"), Err(AppError::Negative)));
    assert_eq!(boxed("2").unwrap(), 4);
    assert!(boxed("x").is_err());
    assert_eq!(first_even(&[1, 4]), Some(4));
    assert_eq!(first_even(&[]), None);
    assert_eq!(search(b"abc", b'c'), Ok(2));
    assert!(search(b"abc", b'd').is_err());
    nothing(true);
    nothing(false);
    assert_eq!(diverges(true), Ok(1));
    assert!(diverges(false).is_err());
}
