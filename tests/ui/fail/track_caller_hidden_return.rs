use instrument_errors::instrument_errors;

// In a `#[track_caller]` function the body runs inline, so the attribute must
// see every way out of it: a macro that may return is refused.
#[instrument_errors]
#[track_caller]
fn checked(n: u8) -> anyhow::Result<u8> {
    anyhow::ensure!(n > 0, "zero");
    Ok(n)
}

#[instrument_errors]
#[track_caller]
fn hidden_question_mark(s: &str) -> Result<(), std::num::ParseIntError> {
    println!("{}", s.parse::<u8>()?);
    Ok(())
}

fn main() {
    let _ = checked(1);
    let _ = hidden_question_mark("1");
}
