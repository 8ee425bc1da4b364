//! The function's own attributes, doc comments, visibility, `unsafe` and ABI
//! are kept, attributes placed before and after `#[instrument_errors]` alike.

#![deny(warnings, missing_docs)]

use instrument_errors::instrument_errors;

/// A module whose public items must be documented.
pub mod api {
    use super::instrument_errors;

    /// Documented: `missing_docs` would fail the build if the expansion
    /// dropped this comment.
    #[instrument_errors]
    #[must_use]
    pub fn documented(x: u32) -> u32 {
        x + 1
    }

    /// Reads the value behind a raw pointer.
    ///
    /// # Safety
    /// `p` must be valid for reads.
    #[instrument_errors]
    pub unsafe fn read(p: *const u32) -> Result<u32, String> {
        if p.is_null() {
            return Err("null".to_owned());
        }
        Ok(*p)
    }

    /// An `extern "C"` function: callable from C, instrumented like any other.
    #[instrument_errors(name = "ffi.add")]
    pub extern "C" fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    /// Both an unsafe and an `extern "C"` function.
    ///
    /// # Safety
    /// Always safe; `unsafe` to test the combination.
    #[instrument_errors]
    pub unsafe extern "C" fn sub(a: u32, b: u32) -> u32 {
        a.wrapping_sub(b)
    }

    /// `cfg` and `inline` stay on the function.
    #[inline]
    #[instrument_errors]
    #[cfg(not(any()))]
    #[allow(clippy::needless_pass_by_value)]
    pub fn kept(s: String) -> usize {
        s.len()
    }
}

#[instrument_errors]
#[cfg(any())]
fn removed() -> u32 {
    compile_error!("the cfg removes this function")
}

#[instrument_errors]
#[track_caller]
fn caller() -> u32 {
    std::panic::Location::caller().line()
}

fn main() {
    assert_eq!(api::documented(1), 2);
    let x = 5u32;
    assert_eq!(unsafe { api::read(&x) }, Ok(5));
    assert!(unsafe { api::read(std::ptr::null()) }.is_err());
    let add: extern "C" fn(u32, u32) -> u32 = api::add;
    assert_eq!(add(1, 2), 3);
    assert_eq!(unsafe { api::sub(3, 1) }, 2);
    assert_eq!(api::kept("abc".to_owned()), 3);
    let _ = caller();
}
