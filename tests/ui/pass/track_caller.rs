//! Issue 10, point 8: `#[track_caller]` keeps reporting the caller's
//! location, also through `return` and `?` in the body.

#![deny(warnings)]

use std::panic::Location;

use instrument_errors::instrument_errors;

#[instrument_errors]
#[track_caller]
fn here() -> &'static Location<'static> {
    Location::caller()
}

#[instrument_errors]
#[track_caller]
fn checked(s: &str) -> Result<u32, std::num::ParseIntError> {
    if s.is_empty() {
        return Ok(Location::caller().line());
    }
    let _: u8 = s.parse()?;
    Ok(Location::caller().line())
}

#[instrument_errors]
#[track_caller]
fn first(v: &[u8]) -> Option<u8> {
    let x = v.first()?;
    assert!(*x < 200, "too big: {x}");
    Some(*x)
}

fn main() {
    let (location, line) = (here(), line!());
    assert_eq!((location.file(), location.line()), (file!(), line));
    let (a, line) = (checked(""), line!());
    assert_eq!(a, Ok(line));
    let (b, line) = (checked("5"), line!());
    assert_eq!(b, Ok(line));
    assert!(checked("x").is_err());
    assert_eq!(first(&[3]), Some(3));
    assert_eq!(first(&[]), None);
}
