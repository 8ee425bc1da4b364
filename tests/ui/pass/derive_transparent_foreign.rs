//! `#[error_type(transparent)]` over fields without `ErrorType`, and
//! `#[error_type(with = f)]`, compile (issue 22).
use instrument_errors::ErrorType;

#[derive(Debug)]
struct Vendor;

#[derive(Debug, ErrorType)]
enum AppError {
    #[error_type(transparent)]
    Parse(std::num::ParseIntError),
    #[error_type(transparent)]
    NotAnError(Vendor),
    #[error_type(with = |e: &std::io::Error| if e.kind() == std::io::ErrorKind::NotFound { "missing" } else { "io" })]
    Io(std::io::Error),
    #[error_type(with = String::len_class)]
    Text { text: String },
}

trait LenClass {
    fn len_class(&self) -> &'static str;
}
impl LenClass for String {
    fn len_class(&self) -> &'static str {
        if self.is_empty() { "empty" } else { "text" }
    }
}

#[derive(Debug, ErrorType)]
#[error_type(transparent)]
struct Wrapper<E: std::fmt::Debug>(E);

fn main() {
    let e = AppError::Parse("x".parse::<u8>().unwrap_err());
    assert_eq!(e.error_type(), "std::num::ParseIntError");
    assert!(AppError::NotAnError(Vendor).error_type().ends_with("::Vendor"));
    assert_eq!(AppError::Io(std::io::ErrorKind::NotFound.into()).error_type(), "missing");
    assert_eq!(AppError::Text { text: String::new() }.error_type(), "empty");
    assert_eq!(Wrapper(std::io::Error::from(std::io::ErrorKind::TimedOut)).error_type(), "std::io::ErrorKind::TimedOut");
}
