//! The expansion refers to nothing the user can shadow: with `Result`, `Ok`,
//! `Err`, `Some`, `None`, `Option`, `Box`, `std`, `core`, `concat`, `env`,
//! `module_path`, `format_args`, `Into`, `Default` and `instrument_errors`
//! all shadowed at the call site, it compiles without a warning.
//!
//! Not covered, by design: statics or constants named like the expansion's
//! closure parameters (`__ie_out`, `__ie_ok`, `__ie_err`, `__ie_ret`). Pattern
//! bindings cannot shadow statics whatever their hygiene, so these
//! `__ie_`-prefixed names are reserved.

#![deny(warnings)]
#![allow(non_camel_case_types)]

mod std {}
mod core {}
// The expansion names the runtime `::instrument_errors`, never `instrument_errors`.
mod instrument_errors {}

type Result = ();
type Option = ();
struct Ok;
struct Err;
struct Some;
struct None;
struct Box;
struct Into;
struct Default;
struct Fn;
struct FnOnce;
struct KeyValue;
struct Verdict;
struct CallSite;
#[allow(unused_macros)]
macro_rules! concat {
    ($($t:tt)*) => {
        compile_error!("the user's concat! was used")
    };
}
#[allow(unused_macros)]
macro_rules! env {
    ($($t:tt)*) => {
        compile_error!("the user's env! was used")
    };
}
#[allow(unused_macros)]
macro_rules! module_path {
    ($($t:tt)*) => {
        compile_error!("the user's module_path! was used")
    };
}
#[allow(unused_macros)]
macro_rules! format_args {
    ($($t:tt)*) => {
        compile_error!("the user's format_args! was used")
    };
}

// The expansion's own `static` is declared in the function's block, so it
// shadows this one rather than clashing with it.
const __IE_SITE: u8 = 0;

#[derive(Debug)]
pub struct Failed;

impl ::std::fmt::Display for Failed {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str("failed")
    }
}

impl ::std::error::Error for Failed {}

fn is_handled(_: &Failed) -> bool {
    false
}

#[::instrument_errors::instrument_errors(
    kind = client,
    ok_if = is_handled,
    error_type = |_: &Failed| "failed",
    attributes("id" = id, "n" = u64::from(id)),
)]
fn fetch(id: u32) -> ::core::result::Result<u32, Failed> {
    if id == 0 {
        ::core::result::Result::Err(Failed)
    } else {
        ::core::result::Result::Ok(id)
    }
}

#[::instrument_errors::instrument_errors(
    error_if = |n: &u32| (*n > 9).then_some("too_big"),
)]
fn count(id: u32) -> u32 {
    id
}

#[::instrument_errors::instrument_errors]
fn maybe(id: u32) -> ::core::option::Option<u32> {
    ::core::option::Option::Some(id)
}

#[::instrument_errors::instrument_errors(description = false, log = false)]
fn unit() {}

fn main() {
    let _ = __IE_SITE;
    let _: Result = ();
    let _: Option = ();
    let _ = (Ok, Err, Some, None, Box, Into, Default, Fn, FnOnce, KeyValue, Verdict, CallSite);
    assert_eq!(fetch(1).ok(), ::core::option::Option::Some(1));
    assert!(fetch(0).is_err());
    assert_eq!(count(3), 3);
    assert_eq!(maybe(2), ::core::option::Option::Some(2));
    unit();
}
