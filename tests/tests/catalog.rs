//! `instrument_errors::catalog`: every instrumented function of this binary,
//! with the `error.type` values known at compile time and whether others are
//! possible.
//!
//! `cargo test -p instrument-errors-tests --features testing --test catalog`

use std::future::Future;
use std::pin::Pin;

use instrument_errors::catalog::{self, Entry};
use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::trace::SpanKind;

#[derive(Debug, ErrorType)]
pub enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    NotFound,
}

#[derive(Debug, ErrorType)]
pub enum AppError {
    #[error_type(transparent)]
    Store(StoreError),
    #[error_type("bad_input")]
    BadInput {
        field: String,
    },
    Recursive(#[allow(dead_code)] Box<AppError>),
    #[error_type(transparent)]
    Nested(Box<AppError>),
}

#[derive(Debug, ErrorType)]
pub enum WithIo {
    #[error_type(transparent)]
    Io(std::io::Error),
    Closed,
}

#[derive(Debug, ErrorType)]
#[error_type("quota")]
pub struct Quota;

#[derive(Debug, ErrorType)]
pub struct Named;

#[derive(Debug, ErrorType)]
pub enum Wrapper<E: ErrorType> {
    #[error_type(transparent)]
    Inner(E),
    Own,
}

#[derive(Debug)]
pub struct Plain;

type AppResult<T> = Result<T, AppError>;

#[instrument_errors(name = "cat.derived", kind = client, metric = "cat.derived.duration")]
fn derived() -> Result<u32, StoreError> {
    Ok(1)
}

#[instrument_errors(name = "cat.transparent", kind = server)]
fn transparent() -> AppResult<Vec<u8>> {
    Ok(Vec::new())
}

#[instrument_errors(name = "cat.with_io")]
fn with_io() -> Result<(), WithIo> {
    Ok(())
}

#[instrument_errors(name = "cat.structs")]
fn structs(a: bool) -> Result<(), Quota> {
    let _ = a;
    Ok(())
}

#[instrument_errors(name = "cat.named")]
fn named() -> Result<(), Named> {
    Ok(())
}

#[instrument_errors(name = "cat.generic_wrapper")]
fn generic_wrapper() -> Result<(), Wrapper<StoreError>> {
    Ok(())
}

#[instrument_errors(name = "cat.type_name")]
fn type_name() -> Result<(), Plain> {
    Ok(())
}

#[instrument_errors(name = "cat.std")]
fn std_error(s: &str) -> Result<u32, std::num::ParseIntError> {
    s.parse()
}

#[instrument_errors(name = "cat.io")]
fn io() -> std::io::Result<()> {
    Ok(())
}

#[instrument_errors(name = "cat.boxed")]
fn boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

#[instrument_errors(name = "cat.anyhow")]
fn erased() -> anyhow::Result<()> {
    Ok(())
}

#[instrument_errors(name = "cat.tonic")]
fn grpc() -> Result<(), tonic::Status> {
    Ok(())
}

#[instrument_errors(name = "cat.error_type", error_type = |_e: &StoreError| "x")]
fn with_error_type() -> Result<(), StoreError> {
    Ok(())
}

#[instrument_errors(name = "cat.error_if", error_if = |v: &u16| (*v > 500).then_some("5xx"))]
fn with_error_if() -> Result<u16, StoreError> {
    Ok(200)
}

#[instrument_errors(name = "cat.generic")]
fn generic<E: std::fmt::Debug>(e: E) -> Result<(), E> {
    Err(e)
}

#[instrument_errors(name = "cat.not_a_result")]
fn not_a_result() -> u32 {
    1
}

#[instrument_errors(name = "cat.unit")]
fn unit() {}

#[instrument_errors(name = "cat.async", kind = consumer)]
async fn in_async() -> Result<(), StoreError> {
    Ok(())
}

#[instrument_errors(name = "cat.impl_future")]
fn impl_future() -> impl Future<Output = Result<(), Quota>> {
    async { Ok(()) }
}

#[instrument_errors(name = "cat.boxed_future")]
fn boxed_future() -> Pin<Box<dyn Future<Output = Result<(), Quota>> + Send>> {
    Box::pin(async { Ok(()) })
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[instrument_errors(name = "cat.aliased_future")]
fn aliased_future(x: &str) -> Fut<'_, Result<(), Quota>> {
    Box::pin(async move {
        let _ = x;
        Ok(())
    })
}

pub struct Repo<R>(R);

impl<R> Repo<R> {
    #[instrument_errors(name = "cat.method")]
    fn get(&self) -> Result<&R, StoreError> {
        Ok(&self.0)
    }

    #[instrument_errors(name = "cat.method_self")]
    fn make(r: R) -> Result<Self, StoreError> {
        Ok(Repo(r))
    }

    /// No `name`: named `Repo::peek` at run time.
    #[instrument_errors]
    pub fn peek(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

pub struct Client<E>(Option<E>);

impl<E: std::fmt::Debug> Client<E> {
    /// `E` is a parameter of the `impl`: the catalog cannot name it.
    #[instrument_errors(name = "cat.outer_generic")]
    fn call(&self) -> Result<(), E> {
        Ok(())
    }
}

pub trait Backend {
    type Error;
}

pub struct Store<Backend>(Option<Backend>);

impl<Backend: self::Backend> Store<Backend> {
    /// An associated type of a long-named parameter of the `impl`: the
    /// catalog cannot name it (and must not try: it would not compile).
    #[instrument_errors(name = "cat.outer_associated")]
    pub fn load(&self) -> Result<(), Backend::Error> {
        Ok(())
    }
}

pub struct Outcome<Failure>(Option<Failure>);

/// Through an annotated block, the attribute knows the block's parameters:
/// an `Err` type that is one of them, long-named, is open.
#[instrument_errors]
impl<Failure: std::fmt::Debug> Outcome<Failure> {
    #[instrument_errors(name = "cat.block_generic")]
    pub fn settle(&self) -> Result<(), Failure> {
        Ok(())
    }
}

/// A qualified path names a concrete type: probed (closed).
#[instrument_errors(name = "cat.qualified")]
pub fn qualified() -> Result<(), <Plain as Service>::Error> {
    Ok(())
}

#[derive(Debug)]
pub struct Full<const CAP: usize>;

pub struct Bounded<const CAP: usize>;

/// A const parameter of an annotated block: open, and it compiles.
#[instrument_errors]
impl<const CAP: usize> Bounded<CAP> {
    #[instrument_errors(name = "cat.block_const")]
    pub fn push(&self) -> Result<(), Full<CAP>> {
        Ok(())
    }
}

pub trait Service {
    type Error;
    fn serve(&self) -> Result<(), Self::Error>;
}

impl Service for Plain {
    type Error = StoreError;

    #[instrument_errors(name = "cat.associated")]
    fn serve(&self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[instrument_errors(name = "cat.http_server", kind = server, http)]
fn http_server() -> http::StatusCode {
    http::StatusCode::OK
}

#[instrument_errors(name = "cat.http_client", kind = client, http)]
fn http_client() -> Result<http::StatusCode, StoreError> {
    Ok(http::StatusCode::OK)
}

#[instrument_errors(name = "cat.grpc_server", kind = server, grpc)]
fn grpc_server() -> Result<(), tonic::Status> {
    Ok(())
}

#[instrument_errors(name = "cat.grpc_client", kind = client, grpc)]
fn grpc_client() -> Result<(), tonic::Status> {
    Ok(())
}

fn entry(name: &str) -> &'static Entry {
    let mut found = catalog::entries().filter(|e| e.name() == name);
    let entry = found
        .next()
        .unwrap_or_else(|| panic!("{name} is not in the catalog"));
    assert!(found.next().is_none(), "{name} twice");
    entry
}

fn closed(name: &str, values: &[&str]) {
    let types = entry(name).error_types();
    assert_eq!(types.values(), values, "{name}");
    assert!(!types.is_open(), "{name} is closed");
}

fn open(name: &str, values: &[&str]) {
    let types = entry(name).error_types();
    assert_eq!(types.values(), values, "{name}");
    assert!(types.is_open(), "{name} is open");
}

#[test]
fn entries_describe_the_functions() {
    let e = entry("cat.derived");
    assert_eq!(e.kind(), SpanKind::Client);
    assert_eq!(e.metric(), "cat.derived.duration");
    assert_eq!(e.function(), "catalog::derived");
    assert!(e.file().ends_with("catalog.rs"), "{}", e.file());
    // The line of the function's name, after the attribute's.
    let line = include_str!("catalog.rs")
        .lines()
        .position(|l| l.starts_with("#[instrument_errors(name = \"cat.derived\""))
        .expect("the attribute");
    assert_eq!(e.line() as usize, line + 2);
    let e = entry("cat.transparent");
    assert_eq!(e.kind(), SpanKind::Server);
    assert_eq!(e.metric(), "function.duration");
    // Methods annotated on their own are named after each `Self` type at
    // run time; the entry says so, and the table shows `Self`.
    assert!(!entry("cat.transparent").per_type());
    for name in ["cat.method", "cat.method_self", "cat.associated", "peek"] {
        assert!(entry(name).per_type(), "{name}");
    }
    assert!(!entry("cat.block_generic").per_type(), "through its block");
    assert_eq!(entry("peek").function(), "catalog::peek");
    let table = catalog::markdown();
    assert!(
        table.contains("| `Self::peek` | internal | `function.duration` | `catalog::Self::peek` |"),
        "{table}"
    );
    assert!(
        table.contains("| `cat.method` | internal | `function.duration` | `catalog::Self::get` |"),
        "{table}"
    );
    // Every function of this binary is there.
    assert_eq!(catalog::entries().count(), 34);
}

#[test]
fn values_known_at_compile_time() {
    closed("cat.derived", &["not_found", "panic", "timeout"]);
    // Transparent variants resolved, recursive types once.
    closed(
        "cat.transparent",
        &["bad_input", "not_found", "panic", "recursive", "timeout"],
    );
    closed("cat.structs", &["panic", "quota"]);
    closed("cat.named", &["catalog::Named", "panic"]);
    closed("cat.type_name", &["catalog::Plain", "panic"]);
    closed("cat.std", &["panic", "std::num::ParseIntError"]);
    closed("cat.not_a_result", &["panic"]);
    closed("cat.unit", &["panic"]);
    closed("cat.async", &["not_found", "panic", "timeout"]);
    closed("cat.impl_future", &["panic", "quota"]);
    closed("cat.boxed_future", &["panic", "quota"]);
    closed("cat.method", &["not_found", "panic", "timeout"]);
    // `Self` as the `Ok` type does not matter.
    closed("cat.method_self", &["not_found", "panic", "timeout"]);
    let tonic = entry("cat.tonic").error_types();
    assert!(!tonic.is_open());
    assert!(tonic.values().contains(&"DEADLINE_EXCEEDED"));
    assert_eq!(tonic.values().len(), 18);
}

#[test]
fn open_values() {
    open("cat.with_io", &["_OTHER", "closed", "panic"]);
    open("cat.io", &["_OTHER", "panic"]);
    open("cat.boxed", &["_OTHER", "panic"]);
    open("cat.anyhow", &["_OTHER", "panic"]);
    open("cat.error_type", &["_OTHER", "panic"]);
    open("cat.error_if", &["_OTHER", "not_found", "panic", "timeout"]);
    open("cat.generic", &["_OTHER", "panic"]);
    // A derived generic type over a type parameter: open.
    open("cat.generic_wrapper", &["_OTHER", "own", "panic"]);
    open("cat.outer_generic", &["_OTHER", "panic"]);
    open("cat.outer_associated", &["_OTHER", "panic"]);
    open("cat.block_generic", &["_OTHER", "panic"]);
    open("cat.block_const", &["_OTHER", "panic"]);
    closed("cat.qualified", &["not_found", "panic", "timeout"]);
    open("cat.associated", &["_OTHER", "panic"]);
    // An alias of a boxed future: not seen through.
    open("cat.aliased_future", &["_OTHER", "panic"]);
}

#[test]
fn protocol_flags() {
    // HTTP: the registered codes that are failures on this side; others are
    // possible.
    let server = entry("cat.http_server").error_types();
    assert!(server.is_open());
    assert!(server.values().contains(&"503") && server.values().contains(&"500"));
    assert!(!server.values().contains(&"404"));
    let client = entry("cat.http_client").error_types();
    assert!(client.values().contains(&"404") && client.values().contains(&"not_found"));
    // gRPC: the server's failure codes, with the `Err` type's values.
    let server = entry("cat.grpc_server").error_types();
    assert!(!server.is_open());
    assert!(server.values().contains(&"UNAVAILABLE"));
    let client = entry("cat.grpc_client").error_types();
    assert_eq!(client.values().len(), 18);
}

#[test]
fn markdown_is_sorted_without_files() {
    let md = catalog::markdown();
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines[0],
        "| operation | kind | duration histogram | function | `error.type` |"
    );
    assert!(lines.contains(
        &"| `cat.derived` | client | `cat.derived.duration` | `catalog::derived` | `not_found`, `panic`, `timeout` |"
    ));
    assert!(lines.contains(
        &"| `cat.io` | internal | `function.duration` | `catalog::io` | `_OTHER`, `panic`, others |"
    ));
    let names: Vec<&str> = lines[2..]
        .iter()
        .map(|l| l.split('`').nth(1).unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert!(!md.contains("catalog.rs"));
    assert_eq!(catalog::diff(&md, &md), None);
    let changed = md.replace("`timeout`", "`timed_out`");
    let diff = catalog::diff(&md, &changed).expect("a diff");
    assert!(diff.contains("- | `cat.derived`"), "{diff}");
    assert!(diff.contains("+ | `cat.derived`"), "{diff}");
}

#[test]
fn the_functions_run() {
    assert!(derived().is_ok() && transparent().is_ok() && with_io().is_ok());
    assert!(structs(true).is_ok() && named().is_ok() && generic_wrapper().is_ok());
    assert!(type_name().is_ok() && std_error("1").is_ok() && io().is_ok());
    assert!(boxed().is_ok() && erased().is_ok() && grpc().is_ok());
    assert!(with_error_type().is_ok() && with_error_if().is_ok() && generic(1).is_err());
    assert_eq!(not_a_result(), 1);
    unit();
    let _ = (
        in_async(),
        impl_future(),
        boxed_future(),
        aliased_future("x"),
    );
    assert!(Repo(1).get().is_ok() && Repo::make(2).is_ok());
    assert!(Client::<Plain>(None).call().is_ok() && Plain.serve().is_ok());
    assert_eq!(http_server(), http::StatusCode::OK);
    assert!(http_client().is_ok() && grpc_server().is_ok() && grpc_client().is_ok());
}
