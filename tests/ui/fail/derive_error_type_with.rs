use instrument_errors::ErrorType;

fn code(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::NotFound { "missing" } else { "io" }
}

#[derive(Debug, ErrorType)]
enum TwoFields {
    #[error_type(with = code)]
    Pair(std::io::Error, std::io::Error),
    #[error_type(with = code)]
    Unit,
}

#[derive(Debug, ErrorType)]
#[error_type(with = code)]
struct Named {
    a: std::io::Error,
    b: u8,
}

#[derive(Debug, ErrorType)]
enum MissingFunction {
    #[error_type(with =)]
    Io(std::io::Error),
}

#[derive(Debug, ErrorType)]
enum WrongFieldType {
    #[error_type(with = code)]
    Parse(std::num::ParseIntError),
}

fn not_a_string(_: &std::io::Error) -> u32 {
    0
}

#[derive(Debug, ErrorType)]
enum WrongReturnType {
    #[error_type(with = not_a_string)]
    Io(std::io::Error),
}

fn main() {}
