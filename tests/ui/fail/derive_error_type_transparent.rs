use instrument_errors::ErrorType;

#[derive(Debug, ErrorType)]
enum NoField {
    #[error_type(transparent)]
    Empty,
}

#[derive(Debug, ErrorType)]
enum TwoFields {
    #[error_type(transparent)]
    Pair(std::io::Error, std::io::Error),
    #[error_type(transparent)]
    Named { a: std::io::Error, b: u8 },
}

#[derive(Debug, ErrorType)]
#[error_type(transparent)]
struct UnitStruct;

#[derive(Debug, ErrorType)]
enum Both {
    #[error_type("x")]
    #[error_type(transparent)]
    Twice(std::io::Error),
}

#[derive(Debug, ErrorType)]
enum Misspelled {
    #[error_type(transparnet)]
    Inner(std::io::Error),
}

fn main() {}
