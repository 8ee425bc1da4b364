use instrument_errors::ErrorType;

#[derive(ErrorType)]
union Bits {
    a: u32,
    b: f32,
}

#[derive(Debug, ErrorType)]
enum NotALiteral {
    #[error_type(timeout)]
    TimedOut,
}

#[derive(Debug, ErrorType)]
#[error_type("store")]
enum OnTheEnum {
    NotFound,
}

#[derive(Debug, ErrorType)]
enum Duplicated {
    #[error_type("a")]
    #[error_type("b")]
    Twice,
}

#[derive(Debug, ErrorType)]
#[error_type("")]
struct Empty;

fn main() {}
