//! Compile-time checks of `#[instrument_errors]` and `#[derive(ErrorType)]`:
//! every `ui/fail/*.rs` must fail to compile with exactly the message in its
//! `.stderr`, and every `ui/pass/*.rs` must compile and run. Regenerate the
//! `.stderr` files with `TRYBUILD=overwrite` and read them before committing.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
