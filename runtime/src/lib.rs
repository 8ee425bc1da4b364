//! Record errors on OpenTelemetry spans, metrics and logs exactly as the
//! semantic conventions' "Recording errors" asks, with one attribute.
//!
//! ```
//! use instrument_errors::{instrument_errors, ErrorType};
//!
//! #[derive(Debug, ErrorType)]
//! enum StoreError {
//!     #[error_type("timeout")]
//!     TimedOut,
//!     AlreadyExists, // error.type = "already_exists"
//! }
//! impl std::fmt::Display for StoreError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("the store said no")
//!     }
//! }
//!
//! fn is_already_exists(e: &StoreError) -> bool {
//!     matches!(e, StoreError::AlreadyExists)
//! }
//!
//! #[instrument_errors(
//!     name = "acme.resource.create",
//!     kind = client,
//!     metric = "acme.resource.create.duration",
//!     ok_if = is_already_exists,
//!     attributes("acme.resource.id" = id),
//! )]
//! fn create(id: &str) -> Result<(), StoreError> {
//!     if id.is_empty() { Err(StoreError::TimedOut) } else { Err(StoreError::AlreadyExists) }
//! }
//!
//! assert!(create("a").is_err()); // handled: span status Unset, no error.type
//! assert!(create("").is_err());  // failure: status Error "the store said no", error.type "timeout"
//! ```
//!
//! # What is recorded
//!
//! For every call: a span (kind and name as configured, child of the current
//! OpenTelemetry context and the current context while the body runs) with
//! `code.function.name`, and one point on an `f64` duration histogram in
//! seconds (default `function.duration` with `code.function.name`, or the
//! `metric = "..."` given), with the conventions' bucket boundaries
//! [`DURATION_BOUNDARIES`]. `code.function.name` is given when the span is
//! created, so samplers see it. The duration is measured with the monotonic
//! clock, and a recorded span normally ends at its start plus that duration,
//! so span and metric point agree (except for the first recorded span on a
//! thread after a sampled-out one, which the SDK times itself).
//!
//! * **Success**: status Unset, no `error.type` anywhere. Never `Ok`.
//! * **Failure** (`Err` not accepted by `ok_if`, a value `error_if` rejects, or
//!   a panic): status `Error` with the error's message as description (unless
//!   `description = false`, or the error has no `Display`), `error.type` on
//!   the span and on the metric point, the same value on both, and, for an
//!   `Err` or a panic (not for an `error_if` value), one exception log record
//!   (see below).
//! * `error.type` is, in order: the `error_type = ...` function, the
//!   [`ErrorType`] implementation, else `std::any::type_name` of the error.
//!   A panic is `"panic"`. The values an instrumentation reports: the
//!   [`ErrorType`] values of your errors, their type names, `"panic"`,
//!   whatever your `error_if`/`error_type` functions return, and `_OTHER`
//!   past the [`ERROR_TYPE_LIMIT`].
//!
//! Which errors count depends on the caller's context, so it is configured
//! per function: `ok_if` (an `Err` that is handled), `error_if` (an `Ok` value
//! that is a failure).
//!
//! # Exceptions as log records
//!
//! A failure that raised an exception (an `Err` not accepted by `ok_if`, or a
//! panic) is recorded **once**, by the innermost instrumented function it
//! escapes from, as a [`tracing`](https://docs.rs/tracing) event named
//! `<span name>.exception` with the fields `exception.type` (= `error.type`),
//! `exception.message` (absent with `description = false`) and, when there
//! is one, `exception.stacktrace` (an error's `source()` chain, or a panic's
//! backtrace when backtraces are enabled). The event is emitted while the
//! operation's span is the current OpenTelemetry context, so an application
//! that routes `tracing` events to OpenTelemetry with
//! `opentelemetry-appender-tracing` gets a log record with that event name,
//! those attributes, and the span's trace id and span id:
//!
//! ```ignore
//! use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
//! use tracing_subscriber::layer::SubscriberExt as _;
//!
//! let logger_provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder()
//!     .with_simple_exporter(opentelemetry_stdout::LogExporter::default())
//!     .build();
//! let subscriber = tracing_subscriber::registry()
//!     .with(OpenTelemetryTracingBridge::new(&logger_provider));
//! instrument_errors::tracing::subscriber::set_global_default(subscriber)?;
//! ```
//!
//! Severity: `WARN` for errors returned from internal, client and producer
//! operations (the caller is expected to handle them), `ERROR` for server
//! and consumer operations and for panics; `log_level = ...` overrides the
//! level of errors and `log = false` turns the record off. An `Ok` value that
//! `error_if` rejects is a failure but not an exception: it is not logged.
//! An error returned unchanged (`?`) or converted (`map_err`, `From` via `?`)
//! by the frames above is the same exception and is not logged again; their
//! spans and metric points still carry `error.type`. A panic raised on a
//! logged error (`.unwrap()`) is a new exception. With
//! `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs/dup` the record is duplicated
//! as the deprecated `exception` span event. See
//! [`exception`] for the details, the rule for "once" and
//! its limits.
//!
//! # Providers
//!
//! Tracer and meter come from `opentelemetry::global`, with an
//! instrumentation scope named after the annotated crate (`CARGO_PKG_NAME`,
//! `CARGO_PKG_VERSION`). They are resolved at the first call of each
//! instrumented function and kept: **install the providers before the first
//! call**. A function that found neither provider at its first call records
//! no span and no metric; it still emits its exception events if a global
//! `tracing` subscriber was set by then (a console subscriber shows escaped
//! errors without any OpenTelemetry setup), and otherwise records nothing.
//!
//! # Limits
//!
//! The attribute never changes what the function does: it returns the same
//! value (or continues the same panic), whatever the error's `Display` and
//! `source()` do (panic, write megabytes, loop) and whatever the exporters
//! do (return errors, block) or the providers are (shut down, swapped).
//! What it records is bounded:
//!
//! * `error.type`: at most [`ERROR_TYPE_LIMIT`] distinct computed values per
//!   function, each at most [`ERROR_TYPE_MAX_LEN`] bytes; others are [`OTHER`].
//! * Status description and `exception.message`: at most
//!   [`exception::MESSAGE_LIMIT`] bytes plus `…`; control characters are kept
//!   as written.
//! * `exception.stacktrace`: at most [`exception::STACKTRACE_LIMIT`] bytes and
//!   [`exception::SOURCE_DEPTH_LIMIT`] `source()` levels (cyclic chains stop).
//! * Memory: nothing is kept per call; per function, the resolved instruments
//!   and the admitted `error.type` values.
//! * **Stack**: an instrumented call adds a fixed amount of stack to each
//!   level of a recursion, the span, clock and recording state, never the
//!   error's message. Measured on x86-64 (Rust 1.95), over a plain recursive
//!   function of the same shape: about 690 bytes per level in debug builds,
//!   about 180 in release builds. The tests hold it to at most
//!   **2 KiB per level in debug builds and 512 bytes in release builds**.
//!   The recording of a failure (the SDK, the `tracing` subscriber and the
//!   exporters) runs after the body returns, so its stack is not multiplied
//!   by the depth.

#![warn(missing_docs)]

mod cardinality;
mod classify;
mod event;
pub mod exception;
mod frame;
mod future;
mod site;
mod value;

pub use cardinality::{ERROR_TYPE_LIMIT, ERROR_TYPE_MAX_LEN, OTHER};
pub use frame::PANIC;
pub use site::{CODE_FUNCTION_NAME, DEFAULT_METRIC, DURATION_BOUNDARIES, ERROR_TYPE};

/// The `tracing` crate the exception events are emitted with, so that an
/// application can install a subscriber (for instance
/// `opentelemetry-appender-tracing`'s bridge) without depending on `tracing`
/// itself; `tracing_subscriber`'s `init()` works as well. See
/// [Exceptions as log records](crate#exceptions-as-log-records).
#[doc(no_inline)]
pub use tracing;

/// Instruments a function: a span, a duration histogram, and errors recorded
/// per the OpenTelemetry semantic conventions.
///
/// All arguments are optional:
///
/// | argument | meaning |
/// |---|---|
/// | `name = "..."` | span name; default: the function's name |
/// | `kind = internal \| client \| server \| producer \| consumer` | span kind; default `internal` |
/// | `metric = "..."` | histogram name; default `function.duration` with `code.function.name` |
/// | `ok_if = f` | `Fn(&E) -> bool`: `true` means the error is handled, not a failure |
/// | `error_if = f` | `Fn(&T) -> Option<S>`: `Some(t)` makes this `Ok` value a failure with `error.type` `t` (`T` is the whole return type of functions that do not return a `Result`) |
/// | `error_type = f` | `Fn(&E) -> S`: the `error.type` of an error |
/// | `description = false` | the message is sensitive: no status description, no `exception.message` |
/// | `attributes("key" = expr, ...)` | span attributes, evaluated at entry |
/// | `log_level = trace \| debug \| info \| warn \| error` | severity of the exception log record |
/// | `log = false` | no exception log record |
///
/// `S` is anything `Into<Cow<'static, str>>`. Functions are closures or paths.
/// Works on free functions, methods, `async fn`, functions returning
/// `impl Future` from an `async` block, and `#[async_trait]` methods.
///
/// # Async
///
/// Supported: `async fn` (free functions, methods, generic ones, native
/// `async fn` in traits, implementations and default methods),
/// `#[async_trait]` methods (implementations and default methods), and
/// functions returning a future whose last expression is an `async` block,
/// bare or in `Box::pin(..)`:
///
/// ```
/// # use instrument_errors::instrument_errors;
/// # use std::future::Future;
/// #[instrument_errors]
/// fn fetch(id: u32) -> impl Future<Output = Result<u32, std::io::Error>> {
///     async move { Ok(id) } // the future is instrumented, not its construction
/// }
/// ```
///
/// A function whose return type is visibly a future (`impl Future`,
/// `dyn Future`) but whose body does not end in an `async` block is a compile
/// error that says how to write it.
///
/// * **The span and the clock start at the first poll**, not when the future
///   is built; a future never polled records nothing. The span is a child of
///   the context current at the first poll, and is the current context during
///   every poll, whichever thread polls it: instrumented calls awaited inside
///   nest under it. A task spawned without the context (`tokio::spawn(f())`)
///   is not a child; `f().with_current_context()` makes it one.
/// * The duration covers the whole future, first poll to completion, awaits
///   included. Results, `ok_if`, `error_if`, `error_type` and panics (caught
///   around each poll, recorded once, then resumed with the same payload) are
///   recorded as for synchronous functions.
/// * **Cancellation**: a future dropped before completion (a lost
///   `tokio::select!` branch, an elapsed `tokio::time::timeout`) ends its
///   span with status Unset and no `error.type`, logs no exception, and
///   **records no duration**, as the operation never finished.
/// * `Send` futures stay `Send`; `!Send` ones still work where they did.
pub use instrument_errors_macros::instrument_errors;

/// Derives [`ErrorType`]: for an enum, each variant's name in `snake_case`, or
/// the literal given with `#[error_type("...")]` on the variant; for a struct,
/// the literal given with `#[error_type("...")]` on it, else its type name.
pub use instrument_errors_macros::ErrorType;

/// The `error.type` of an error: a low-cardinality, predictable name for its
/// class, such as `"timeout"`, `"not_found"` or `"500"`.
///
/// Derive it with `#[derive(ErrorType)]`, or implement it. Return
/// `Cow::Borrowed` for fixed names: computed (`Cow::Owned`) values are
/// counted against [`ERROR_TYPE_LIMIT`] per operation.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `instrument_errors::ErrorType`",
    label = "add `#[derive(ErrorType)]` to the error type, or implement `ErrorType` for it"
)]
pub trait ErrorType {
    /// The `error.type` value for this error.
    fn error_type(&self) -> std::borrow::Cow<'static, str>;
}

impl<E: ErrorType + ?Sized> ErrorType for &E {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        (**self).error_type()
    }
}

impl<E: ErrorType + ?Sized> ErrorType for Box<E> {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        (**self).error_type()
    }
}

/// The API the expansion of `#[instrument_errors]` calls. Not public API:
/// it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::classify::{
        error_if, error_type, ok_if, Failure, NotAResult, Outcome, Probe, ReturnTypeIsNotAResult,
        Split, Verdict, ViaDisplay, ViaError, ViaErrorType, ViaNoDisplay, ViaNoError, ViaTypeName,
    };
    pub use crate::event::{emit_exception, EXCEPTION_FIELDS};
    pub use crate::exception::ExceptionRecord;
    pub use crate::frame::Frame;
    pub use crate::future::Instrumented;
    pub use crate::site::{CallSite, ExceptionSink, Info, Kind};
    pub use crate::value::{attribute, AttributeValue};
    pub use opentelemetry::KeyValue;
    pub use tracing;
}
