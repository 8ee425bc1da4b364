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

// Diverging bodies: no `unreachable_code` warning from the expansion.
#[instrument_errors]
#[track_caller]
#[allow(clippy::unnecessary_wraps)]
fn not_yet(_: u8) -> Result<u8, std::io::Error> {
    todo!()
}

#[instrument_errors]
#[track_caller]
fn never(message: &str) -> ! {
    panic!("{message}")
}

// `tracing` and `anyhow` macros neither return nor hide a `?`.
#[instrument_errors]
#[track_caller]
fn logged(n: u8) -> anyhow::Result<u8> {
    tracing::info!(n, "checking");
    if n == 0 {
        return Err(anyhow::anyhow!("zero"));
    }
    Ok(n)
}

fn main() {
    // The two panics below are expected: keep them out of the test output.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(|| not_yet(1)).is_err());
    assert!(std::panic::catch_unwind(|| never("stop")).is_err());
    std::panic::set_hook(hook);
    assert!(logged(0).is_err());
    assert_eq!(logged(2).ok(), Some(2));
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
