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
//! thread after a sampled-out one, which the SDK times itself). The span's
//! start time is that monotonic reading placed on the wall clock by a
//! per-thread anchor (both clocks read together, again every 100 ms), so a
//! call reads a clock twice; a step of the system clock shows in span
//! timestamps within 100 ms.
//!
//! * **Success**: status Unset, no `error.type` anywhere. Never `Ok`.
//! * **Failure** (`Err` not accepted by `ok_if`, a value `error_if` rejects, or
//!   a panic): status `Error` with the error's message as description (unless
//!   `description = false`, or the error has no `Display`), `error.type` on
//!   the span and on the metric point, the same value on both, and, for an
//!   `Err` or a panic (not for an `error_if` value), one exception log record
//!   (see below).
//! * `error.type` is, in order: the `error_type = ...` function, the
//!   [`ErrorType`] implementation (yours, or this crate's for
//!   `std::io::Error`, `Box<dyn Error>`, `anyhow::Error` and `eyre::Report`),
//!   else the error's type name (`std::any::type_name`, with the public path
//!   for std's errors). A panic is `"panic"`. See
//!   [the values reported](crate#the-errortype-values).
//!
//! # The `error.type` values
//!
//! The conventions ask instrumentations to document the values they report.
//! These are all of them:
//!
//! | the error | `error.type` |
//! |---|---|
//! | your type with `#[derive(ErrorType)]` | the variant's name in `snake_case` (`not_found`), or its `#[error_type("...")]`; with `#[error_type(transparent)]`, the one field's value (its [`ErrorType`], else the type-erased rule below on it); with `#[error_type(with = f)]`, `f(&field)`; a struct: its literal, else its type name |
//! | your type implementing [`ErrorType`] | what it returns |
//! | `sqlx::Error` (feature `sqlx`) | the database's code when it answered (`"2067"`, `"23505"`), the `std::io::ErrorKind::<Kind>` of an I/O error, else the variant's name in `snake_case` (`row_not_found`, `pool_timed_out`, `pool_closed`, …): see the module `db` |
//! | `std::io::Error` | `std::io::ErrorKind::<Kind>`: `std::io::ErrorKind::NotFound`, `std::io::ErrorKind::PermissionDenied`, … (an `ErrorKind::Other` error wrapping a payload with a known value, `io::Error::other(e)`, reports that value) |
//! | `Box<dyn Error>` and `Arc<dyn Error>` (also `+ Send`, `+ Sync`, `+ Send + Sync`), `anyhow::Error` (feature `anyhow`), `eyre::Report` (feature `eyre`) | see [type-erased errors](#type-erased-errors) |
//! | a std error type without [`ErrorType`] | its public path: `std::num::ParseIntError`, `std::num::ParseFloatError`, `std::num::TryFromIntError`, `std::str::ParseBoolError`, `std::str::Utf8Error`, `std::string::FromUtf8Error`, `std::string::FromUtf16Error`, `std::char::ParseCharError`, `std::char::CharTryFromError`, `std::char::TryFromCharError`, `std::array::TryFromSliceError`, `std::fmt::Error`, `std::net::AddrParseError`, `std::time::SystemTimeError`, `std::time::TryFromFloatSecsError`, `std::sync::mpsc::{RecvError, TryRecvError, RecvTimeoutError}`, `std::ffi::{NulError, FromBytesWithNulError, FromBytesUntilNulError, FromVecWithNulError, IntoStringError}`, `std::env::{VarError, JoinPathsError}`, `std::path::StripPrefixError`, `std::cell::{BorrowError, BorrowMutError}`, `std::alloc::LayoutError`, `std::collections::TryReserveError`, `std::thread::AccessError` |
//! | any other type without [`ErrorType`] | `std::any::type_name` of it without generic arguments (`my_crate::db::Error`, `tokio::sync::mpsc::error::SendError` for a `SendError<Job>`), seen through `Box`, `Arc` and `Rc` |
//! | a panic | `"panic"` ([`PANIC`]) |
//! | `error_type = f`, `error_if = f` | what `f` returns |
//! | past the limits | `_OTHER` ([`OTHER`]) |
//!
//! Computed (`String`) values count against [`ERROR_TYPE_LIMIT`] per
//! function; the `&'static str` ones (derived values, io kinds, type names)
//! are a bounded set and are not counted.
//!
//! ## Type-erased errors
//!
//! For `Box<dyn Error>`, `Arc<dyn Error>` (each with or without `Send`,
//! `Sync`), `anyhow::Error` and `eyre::Report`, `error.type` is
//! the first error along the `source()` chain, outermost first (`anyhow`'s
//! context first), that has a known value:
//!
//! 1. a type with `#[derive(ErrorType)]`, a hand-written [`ErrorType`]
//!    registered with [`register_error_type!`], or `sqlx::Error` (feature
//!    `sqlx`): its value;
//! 2. a `std::io::Error`: its `std::io::ErrorKind::<Kind>` value;
//!
//! else a value from the root cause (the last `source()`): the public path of
//! a std error type listed above, else the first identifier of its `Debug`
//! output, as error trackers name an error they only see as `dyn Error`
//! (`MyError { .. }` gives `MyError`, a computed value), else `_OTHER` (an
//! error made from a bare message: `anyhow!("...")`, `Box::<dyn
//! Error>::from("...")`). The wrapper's own name (`anyhow::Error`) is never
//! reported. Their `exception.message` is the outermost `Display` (the
//! context) and their `exception.stacktrace` the rest of the chain. The same
//! values come from calling [`ErrorType::error_type`] on them, or on any
//! `&(dyn Error + 'static)`, in your own `error_type = ...` functions.
//!
//! Derived types are found inside erased errors without any registration by
//! hand: `#[derive(ErrorType)]` on a non-generic type submits a downcaster
//! for it to a list built before `main` with the `inventory` crate, on Linux,
//! Android, macOS, iOS, FreeBSD, Windows and WebAssembly (where the module's
//! constructors must run, as `wasm-bindgen` does). On other platforms the
//! list is empty and derived types inside erased errors fall back to the
//! root-cause rule. A hand-written [`ErrorType`] implementation joins the
//! list with [`register_error_type!`]`(MyError)`; generic types are not in
//! it (an erased error over them reports the root-cause value); their own
//! `error.type` is unaffected.
//!
//! Which errors count depends on the caller's context, so it is configured
//! per function: `ok_if` (an `Err` that is handled), `error_if` (an `Ok` value
//! that is a failure).
//!
//! # Exceptions as log records
//!
//! A failure that raised an exception (an `Err` not accepted by `ok_if`, or a
//! panic) is recorded **once**, as a [`tracing`](https://docs.rs/tracing) event named
//! `<span name>.exception` (the span of the innermost instrumented function it
//! escaped) with the message `<span name> failed: <exception message>`
//! (`store.get failed: connection refused`; with `description = false`,
//! `<span name> failed: <error.type>`), which becomes the log record's body
//! and is what a console subscriber prints, and the fields `exception.type`
//! (= `error.type`), `exception.message` (absent with `description =
//! false`), when there is one, `exception.stacktrace` (an error's `source()`
//! chain, or for a panic where it happened, `panicked at src/web.rs:195:9`,
//! and, when backtraces are enabled, the backtrace from the panicking frame,
//! through a panic hook installed once: see
//! [Panics](exception#panics-the-hook)), and `code.function.name` (that
//! function). The event is an explicit root: tracing-opentelemetry's layer
//! does not copy it onto the enclosing `tracing` span as a span event, nor set
//! that span's status. It is emitted with the span of the function it escaped
//! first as the current OpenTelemetry context, so an application that routes
//! `tracing` events to OpenTelemetry with `opentelemetry-appender-tracing`
//! gets a log record with that event name, those attributes, and that span's
//! trace id and span id:
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
//! The record is emitted when the exception's fate is known, at the highest
//! severity of the instrumented frames it escaped (each frame's `log_level`,
//! else `ERROR` for server and consumer operations, `WARN` for internal,
//! client and producer ones): when a caller handles it (returns `Ok`, or goes
//! on to make another instrumented call), when it escapes a server or
//! consumer operation (`ERROR`), or when it escapes the outermost
//! instrumented call. A panic is logged at once, at `ERROR`. An error
//! returned unchanged (`?`) or converted (`map_err`, `From` via `?`) by the
//! frames above is the same exception; their spans and metric points still
//! carry `error.type`. A panic raised on a logged error (`.unwrap()`) is a
//! new exception. `log = false` turns a frame's records off. An `Ok` value
//! that `error_if` rejects is a failure but not an exception: it is not
//! logged. An `Err` that `ok_if` accepts is handled: one `DEBUG` record,
//! status Unset, no `error.type`, and with `handled_attribute = "..."` that
//! attribute on the span and the record, set to the error's `error.type`;
//! when a caller's `ok_if` accepts an error an instrumented callee returned,
//! the callee's pending record is that one `DEBUG` record (the table of fates
//! and severities is in [`exception`](exception#fates-and-severities)). The
//! log record has no `Timestamp` (`opentelemetry-appender-tracing` sets only
//! the `ObservedTimestamp`, the moment it is emitted: when the fate is known).
//! With `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs/dup` the record is
//! duplicated as the deprecated `exception` span event. See [`exception`]
//! for the details, the rule for "once" and its limits.
//!
//! # Providers
//!
//! Tracer and meter come from `opentelemetry::global`, with an
//! instrumentation scope named after the annotated crate (`CARGO_PKG_NAME`,
//! `CARGO_PKG_VERSION`). They are resolved at the first call of each
//! instrumented function and kept. A function first called before the
//! providers were installed (during start-up) resolves them again at its
//! next call after `set_meter_provider`, after a global `tracing` subscriber
//! is set, or after another instrumented function found a tracer provider at
//! its first call, and records from then on: the setup of the README
//! (providers, then the `tracing` bridge) loses nothing recorded after it.
//! With neither provider, a function still emits its exception events if a
//! global `tracing` subscriber is set (a console subscriber shows escaped
//! errors without any OpenTelemetry setup), and otherwise records nothing, at
//! the cost of a few loads.
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
//!   [`exception::MESSAGE_LIMIT`] bytes, cut at a character boundary and then
//!   ending with `… [cut at 4096 bytes]` (no more of the error is formatted
//!   than the limit needs); control characters are kept as written.
//! * `exception.stacktrace`: at most [`exception::STACKTRACE_LIMIT`] bytes and
//!   [`exception::SOURCE_DEPTH_LIMIT`] `source()` levels (cyclic chains
//!   stop), then ending with `… [cut at N bytes]` or `… [cut at 32 levels]`.
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
//!
//! # Testing what is recorded
//!
//! Feature `testing` (for `[dev-dependencies]`): [`testing::capture`] and
//! [`testing::capture_future`] return what every instrumented call made
//! inside recorded (span, duration point, exception record), without
//! providers and without locks; [`catalog::entries`] and
//! [`catalog::markdown`] list every instrumented function of the binary with
//! the `error.type` values it can report, for a snapshot test. Without the
//! feature, neither exists nor costs anything.
//!
//! # Features
//!
//! None is enabled by default. On docs.rs each item a feature adds says
//! "Available on crate feature ... only".
//!
//! | feature | adds | compiler |
//! |---|---|---|
//! | `anyhow` | `impl ErrorType for anyhow::Error`, its cause chain as `exception.stacktrace` | Rust 1.78 |
//! | `eyre` | `impl ErrorType for eyre::Report`, its cause chain as `exception.stacktrace` | Rust 1.78 |
//! | `http` | the module `http`: `server_error`, `client_error`, `response_attributes`, `ResponseStatus` for `http` 1.x responses (axum, hyper), `extract_context` and `inject_context` for trace context in headers; the `kind = .., http` flag | Rust 1.78 |
//! | `reqwest` | `http::ResponseStatus` for `reqwest::Response` and `reqwest::Error`, `impl ErrorType for reqwest::Error` (reqwest 0.13); enables `http` | **Rust 1.88** (reqwest 0.13's dependencies) |
//! | `tonic` | the module `grpc` (`server_handled`, `response_attributes`, `code_name`, `ResponseCode`, ...) and `impl ErrorType for tonic::Status`, for tonic 0.14; the `kind = .., grpc` flag | **Rust 1.88** (tonic 0.14's minimum) |
//! | `testing` | the modules `testing` (`capture`, `capture_future`) and `catalog` (`entries`, `markdown`), for `[dev-dependencies]` | Rust 1.78 |
//! | `sqlx` | the module `db` (`response_status_code`, `ResponseStatusCode`) and `impl ErrorType for sqlx::Error`, for sqlx 0.8; the `kind = client, db` flag (`db.response.status_code`) | **Rust 1.88** (sqlx 0.8's URL dependencies) |
//!
//! The minimum supported Rust version is **1.78** (`#[diagnostic::on_unimplemented]`
//! on the traits behind the attribute's error messages); the `reqwest` and
//! `tonic` features need 1.88.
//!
//! # HTTP and gRPC
//!
//! The protocol flags classify a server's or a client's whole result, `Ok`
//! or `Err`, by the status it carries, as the HTTP and gRPC conventions ask:
//! `#[instrument_errors(kind = server, http)]` (feature `http`; a `5xx` is a
//! failure, any other status is not; a client: `>= 400`) and
//! `#[instrument_errors(kind = server, grpc)]` (feature `tonic`). An `Err`
//! whose status is not a failure is handled (status Unset, a `DEBUG`
//! record); a failed one keeps its own `ErrorType` value, else the status's;
//! the status goes on the span and the duration point
//! (`http.response.status_code`, `rpc.response.status_code`). The status is
//! read from any `http::ResponseStatus` or `grpc::ResponseCode` type, yours
//! included. `metric_attributes(..)` puts `http.route` and the like on span
//! and duration point; `parent = http::extract_context(&headers)` and
//! `http::inject_context` carry the trace across services. Feature
//! `reqwest`: `reqwest::Response` and `reqwest::Error` carry their status,
//! and `reqwest::Error` has an `error.type`.
//!
//! The modules `http` (feature `http`) and `grpc` (feature `tonic`) also
//! hold the helpers for other shapes (`server_error`, `client_error`,
//! `response_attributes`, `server_handled`), and `ErrorType` for
//! `tonic::Status`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
// docs.rs (and `RUSTDOCFLAGS="--cfg docsrs" cargo +nightly doc`): every
// feature-gated item says which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cardinality;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod catalog;
mod classify;
mod clock;
#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
pub mod db;
mod dispatch;
mod entry;
mod error_type;
mod event;
pub mod exception;
mod frame;
mod future;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub mod grpc;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod inline;
mod panic_hook;
mod protocol;
mod site;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod value;

pub use cardinality::{ERROR_TYPE_LIMIT, ERROR_TYPE_MAX_LEN, OTHER};
pub use frame::PANIC;

/// Without the feature `testing`, the attribute's catalog registration
/// expands to nothing. Not public API.
#[cfg(not(feature = "testing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __catalog_entry {
    ($($tokens:tt)*) => {};
}

/// Without the feature `testing`, the derive's catalog values expand to
/// nothing. Not public API.
#[cfg(not(feature = "testing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __catalog_values {
    ($($tokens:tt)*) => {};
}
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
/// | `name = "..."` | span name; default: the function's name, `Type::method` for a method of an annotated `impl` block |
/// | `kind = internal \| client \| server \| producer \| consumer` | span kind; default `internal` |
/// | `metric = "..."` | histogram name; default `function.duration` with `code.function.name` |
/// | `ok_if = f` | `Fn(&E) -> bool`: `true` means the error is handled, not a failure (logged at `DEBUG`) |
/// | `error_if = f` | `Fn(&T) -> Option<S>`: `Some(t)` makes this `Ok` value a failure with `error.type` `t` (`T` is the whole return type of functions that do not return a `Result`) |
/// | `error_type = f` | `Fn(&E) -> S`: the `error.type` of an error |
/// | `description = false` | the message is sensitive: no status description, no `exception.message` |
/// | `attributes("key" = expr, ...)` | span attributes, evaluated at entry; a parameter or field named there is borrowed (through `&V: AttributeValue`, else a clone), not moved |
/// | `metric_attributes("key" = expr, ...)` | low-cardinality attributes on the span (at creation) and on the duration point, evaluated at entry for every call (`http.route`, `http.request.method`, ...); places are borrowed as in `attributes` |
/// | `kind = server, http` / `kind = client, http` | the `http` flag (feature `http`): the returned value, `Ok` or `Err`, is classified by its HTTP status, which goes on span and duration point as `http.response.status_code` ([HTTP and gRPC](crate#http-and-grpc)) |
/// | `kind = server, grpc` / `kind = client, grpc` | the `grpc` flag (feature `tonic`): the same with gRPC status codes and `rpc.response.status_code` |
/// | `parent = expr` | the span's parent, an `opentelemetry::Context` or `&Context` (`instrument_errors::http::extract_context(&headers)`), instead of the current context |
/// | `links = expr` | the span's links, an `IntoIterator<Item = opentelemetry::trace::Link>`, evaluated at entry and given at span creation |
/// | `result_attributes = f` | `Fn(&R) -> I`, `I: IntoIterator<Item = KeyValue>`: span attributes from the whole returned value `R`, evaluated after the call, only for a span that records (`instrument_errors::http::response_attributes` and `instrument_errors::grpc::response_attributes` are two) |
/// | `log_level = trace \| debug \| info \| warn \| error` | severity of an exception escaping this function (the record takes the highest of the frames it escaped) |
/// | `log = false` | no exception log record |
/// | `handled_attribute = "..."` | with `ok_if` or a protocol flag: on a handled error, this attribute on the span and the `DEBUG` record, set to the error's `error.type` |
/// | `span = current` | feature `tracing-opentelemetry`, written above `#[tracing::instrument]`: no span of its own; status, description, `error.type` and attributes go on the current `tracing` span, the exception record (`<its name>.exception`) is tied to it; with no `tracing` span current, a span of its own |
/// | `skip` | on a method of an annotated `impl` block: leave it alone |
///
/// `S` is anything `Into<Cow<'static, str>>` (an `error_type` function may also
/// return a `Cow<'_, str>` borrowed from the error, copied and counted as a
/// computed value). Functions are closures or paths.
///
/// **`impl` blocks.** On an `impl` block (inherent or trait, generic or not,
/// `#[async_trait]`), every method with a body is instrumented as if it
/// carried the attribute, the block's arguments as defaults and a method's own
/// `#[instrument_errors(...)]` overriding them argument by argument;
/// `#[instrument_errors(skip)]` and `const fn`s are left alone. `name`,
/// `metric`, and `attributes(..)`, `metric_attributes(..)`, `parent` or
/// `links` naming a parameter or `self` are compile errors at block level.
/// Such a method's span is named `Type::method` and its `code.function.name`
/// is `<module>::Type::method` (generic arguments left out; a blanket impl
/// over a type parameter uses the trait's name). A method annotated on its
/// own does not see its `impl` block: with a `self` receiver, or a signature
/// that names `Self`, its span name (`Type::method`, unless `name` is given)
/// and `code.function.name` are completed at run time from
/// `std::any::type_name::<Self>()` (`<module>::Type::method`, once per type,
/// so a trait's default method gets one per implementor); its exception
/// records are named after that span name (`Type::method.exception`,
/// through a `tracing` callsite made once per type and level).
///
/// **Coercions.** The declared return type is a coercion site for the tail
/// and for every `return`, as without the attribute, `async fn` included
/// (`&String` to `&str`, `Box<T>` to `Box<dyn Trait>`, inside `Ok(..)`).
/// Works on free functions, methods (any receiver), generic functions,
/// functions with any qualifier (`extern "C" fn`, ...), `#[track_caller]` functions, `async fn` and
/// functions returning futures (below). Only the signature decides how a call
/// is recorded: a return type `Result<impl Trait, E>` is classified by `E`
/// even when the body never names it. The function keeps its attributes
/// (inner ones too), its lints (`dead_code` and `#[expect]`, clippy's
/// `missing_errors_doc`, `must_use_candidate`, `missing_panics_doc`, ...) and
/// its `#[track_caller]` location. One exception: clippy's `unused_async`
/// cannot fire on an instrumented `async fn`, whose expansion awaits the
/// instrumented body. The expansion calls the runtime by path, except for
/// the type-directed probes, methods named `ie_*`: those names are reserved.
///
/// `#[track_caller]` functions run their body inline (not in a closure, which
/// `#[track_caller]` does not reach): their `return` and `?` (on `Result` and
/// `Option`) are seen by the attribute. Since a macro could return unseen, a
/// macro call there must be one known not to (the formatting, assertion and
/// panic macros of `std`, the event and span macros of `tracing` and `log`,
/// `anyhow!`, `eyre!`), with no `return` or `?` in its arguments; any other
/// (`bail!`, `ensure!`, your own) is a compile error that says what to write.
/// Such a function may not return a future, and a panic in it is recorded
/// without its message.
///
/// # Async
///
/// **A function whose return type is a future has its returned future
/// instrumented, never its construction.** That is `async fn` (free
/// functions, methods, generic ones, native `async fn` in traits,
/// `#[async_trait]` methods), `-> impl Future<Output = T>` or
/// `-> impl IntoFuture<Output = T>` whatever the body ends with, and
/// `-> Pin<Box<dyn Future<Output = T> (+ Send) + '_>>` or any alias of it
/// (`futures::future::BoxFuture`, `LocalBoxFuture`, your own), whatever builds
/// the box:
///
/// ```
/// # use instrument_errors::instrument_errors;
/// # use std::future::Future;
/// async fn inner(id: u32) -> Result<u32, std::io::Error> {
///     Ok(id)
/// }
///
/// #[instrument_errors]
/// fn fetch(id: u32) -> impl Future<Output = Result<u32, std::io::Error>> {
///     inner(id) // the returned future is instrumented, not this call
/// }
/// ```
///
/// Another named type implementing `Future` (`std::future::Ready<T>`, a
/// `JoinHandle`, a generic `F: Future`) cannot be returned instrumented in its
/// own type: a compile error says to return `impl Future` or a boxed future.
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
///   span with status Unset and no `error.type`, logs no exception of its own
///   (a record pending from a call inside it is emitted), and
///   **records no duration**, as the operation never finished.
/// * `Send` futures stay `Send`; `!Send` ones still work where they did.
pub use instrument_errors_macros::instrument_errors;

/// Derives [`ErrorType`]: for an enum, each variant's name in `snake_case`, or
/// the literal given with `#[error_type("...")]` on the variant; for a struct,
/// the literal given with `#[error_type("...")]` on it, else its type name.
///
/// `#[error_type(transparent)]` on a variant (or a struct) with exactly one
/// field gives it that field's `error.type`, so that a wrapper reports the
/// original error: the field's [`ErrorType`] when its type has one (your
/// derived types, `std::io::Error`, `Box<dyn Error>`, `anyhow::Error`,
/// `sqlx::Error`, …); else, for a `std::error::Error` (a foreign crate's
/// error), the [type-erased rule](crate#type-erased-errors) on it: the first
/// derived, registered or I/O error along its `source()` chain, the field
/// first, else the field type's path when it is its own root cause
/// (`std::num::ParseIntError`), else the root cause's type; else the field
/// type's name. A generic field type must implement [`ErrorType`].
///
/// `#[error_type(with = f)]` on a variant (or a struct) with exactly one
/// field gives it `f(&field)`, for any `f: Fn(&Field) -> S` (a path or a
/// closure), `S: Into<Cow<'static, str>>`.
///
/// Both work beside thiserror's `#[error(transparent)]` and `#[from]`:
///
/// ```
/// use instrument_errors::ErrorType;
///
/// #[derive(Debug, thiserror::Error, ErrorType)]
/// enum StoreError {
///     #[error("the store timed out")]
///     #[error_type("timeout")]
///     TimedOut,
/// }
///
/// #[derive(Debug, thiserror::Error, ErrorType)]
/// enum AppError {
///     #[error("the store failed")]
///     #[error_type(transparent)]
///     Store(#[from] StoreError),
///     #[error(transparent)]
///     #[error_type(transparent)]
///     Io(#[from] std::io::Error),
///     #[error("bad port")]
///     #[error_type(transparent)] // no ErrorType: "std::num::ParseIntError"
///     Port(#[from] std::num::ParseIntError),
///     #[error("bad address")]
///     #[error_type(with = addr_error_type)]
///     Addr(#[from] std::net::AddrParseError),
/// }
///
/// fn addr_error_type(_: &std::net::AddrParseError) -> &'static str {
///     "bad_address"
/// }
///
/// assert_eq!(AppError::from(StoreError::TimedOut).error_type(), "timeout");
/// let io = std::io::Error::from(std::io::ErrorKind::NotFound);
/// assert_eq!(AppError::from(io).error_type(), "std::io::ErrorKind::NotFound");
/// let port = "x".parse::<u16>().unwrap_err();
/// assert_eq!(AppError::from(port).error_type(), "std::num::ParseIntError");
/// let addr = "x".parse::<std::net::IpAddr>().unwrap_err();
/// assert_eq!(AppError::from(addr).error_type(), "bad_address");
/// ```
///
/// A non-generic derived type is also found inside type-erased errors
/// (`Box<dyn Error>`, `anyhow`, `eyre`): see
/// [type-erased errors](crate#type-erased-errors).
pub use instrument_errors_macros::ErrorType;

/// The `error.type` of an error: a low-cardinality, predictable name for its
/// class, such as `"timeout"`, `"not_found"` or `"500"`.
///
/// Derive it with `#[derive(ErrorType)]`, or implement it. Return
/// `Cow::Borrowed` for fixed names: computed (`Cow::Owned`) values are
/// counted against [`ERROR_TYPE_LIMIT`] per operation.
///
/// This crate implements it for `std::io::Error`
/// (`std::io::ErrorKind::NotFound`, …), for `dyn Error` (and so
/// `Box<dyn Error>` and `Arc<dyn Error>`, with or without `Send`, `Sync`), and, behind the features
/// of the same names, for `anyhow::Error` and `eyre::Report`: see
/// [the values reported](crate#the-errortype-values).
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `instrument_errors::ErrorType`",
    label = "instrument-errors needs the `error.type` of this error",
    note = "give the function `error_type = |e: &E| ...` (a function returning the value), or, \
            for a wrapper of it, `#[error_type(\"...\")]` on the variant that holds it"
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

impl<E: ErrorType + ?Sized> ErrorType for std::sync::Arc<E> {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        (**self).error_type()
    }
}

/// `span = current` with the feature `tracing-opentelemetry`: `true`.
#[cfg(feature = "tracing-opentelemetry")]
#[doc(hidden)]
#[macro_export]
macro_rules! __span_current {
    () => {
        true
    };
}

/// `span = current` without the feature `tracing-opentelemetry`: an error.
#[cfg(not(feature = "tracing-opentelemetry"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __span_current {
    () => {
        ::core::compile_error!(
            "`span = current` needs the feature `tracing-opentelemetry` of `instrument-errors`"
        )
    };
}

/// Puts hand-written [`ErrorType`] implementations in the list that
/// type-erased errors are searched with, as `#[derive(ErrorType)]` does for
/// derived types, so that an `anyhow::Error`, `eyre::Report` or
/// `Box<dyn Error>` wrapping one of these types reports its value (see
/// [type-erased errors](crate#type-erased-errors)).
///
/// Each type must be a non-generic (or fully instantiated) `'static` type
/// implementing both `std::error::Error` and [`ErrorType`]. Write it once
/// per type, at module level, in any module of any crate of the program.
///
/// ```
/// use std::borrow::Cow;
/// use instrument_errors::ErrorType;
///
/// #[derive(Debug)]
/// struct RepoError(u16);
/// impl std::fmt::Display for RepoError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "repository error {}", self.0)
///     }
/// }
/// impl std::error::Error for RepoError {}
/// impl ErrorType for RepoError {
///     fn error_type(&self) -> Cow<'static, str> {
///         if self.0 == 404 { Cow::Borrowed("not_found") } else { Cow::Borrowed("repository") }
///     }
/// }
///
/// instrument_errors::register_error_type!(RepoError);
///
/// let erased: Box<dyn std::error::Error + Send + Sync> = Box::new(RepoError(404));
/// assert_eq!(erased.error_type(), "not_found");
/// ```
///
/// Registration works where `#[derive(ErrorType)]`'s does (Linux, Android,
/// macOS, iOS, FreeBSD, Windows, WebAssembly); elsewhere the root-cause rule
/// applies.
#[macro_export]
macro_rules! register_error_type {
    ($($ty:ty),+ $(,)?) => {$(
        $crate::__private::inventory::submit! {
            $crate::__private::Downcaster::new({
                fn __ie_downcast(
                    error: &(dyn ::std::error::Error + 'static),
                ) -> ::core::option::Option<::std::borrow::Cow<'static, str>> {
                    error
                        .downcast_ref::<$ty>()
                        .map(<$ty as $crate::ErrorType>::error_type)
                }
                __ie_downcast
            })
        }
    )+};
}

/// The API the expansion of `#[instrument_errors]` calls. Not public API:
/// it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::classify::{
        error_if, error_type, ok_if, ErrorTypeValue, Failure, Message, NotAResult, Outcome, Probe,
        ReturnTypeIsNotAResult, Split, Verdict, ViaDisplay, ViaError, ViaErrorType,
        ViaKnownErrorType, ViaNoDisplay, ViaNoError, ViaTypeName, ViaUnknownErrorType,
    };
    pub use crate::dispatch::{
        once, output_of, ret, typed_future, typed_future_as, typed_future_from,
        typed_into_future_from, Select, TrackCallerFuture, UnsupportedFutureType,
        ViaBoxedLocalFuture, ViaBoxedSendFuture, ViaNamedFuture, ViaSync,
    };
    pub use crate::entry::{
        After, CurrentContext, Eager, Entry, ExplicitParent, IntoParent, Lazy, Links,
        MetricAttributes, NoLinks, NoMetricAttributes, Parent, SpanAttributes, SpanLinks, Start,
    };
    pub use crate::error_type::{
        Downcast, Downcaster, TransparentField, ViaDowncast, ViaFieldError, ViaFieldErrorType,
        ViaFieldTypeName, ViaNoDowncast,
    };
    pub use crate::event::{emit_exception, EXCEPTION_FIELDS};
    pub use crate::exception::ExceptionRecord;
    pub use crate::frame::Frame;
    pub use crate::future::Instrumented;
    pub use crate::inline::{Branch, FromResidual, InlineFrame};
    pub use crate::protocol::{
        flag_err, flag_error_type, flag_ok, status_attribute, Db, Grpc, Http, Protocol, Side,
        StatusOf, ViaNoStatus, ViaStatus,
    };
    pub use crate::site::{CallSite, ExceptionSink, Info, Kind, TypedSites};
    pub use crate::value::{
        attribute, AttributeRef, AttributeValue, ViaCloneValue, ViaNoValue, ViaRefValue,
    };
    pub use inventory;
    pub use opentelemetry::KeyValue;
    pub use tracing;
}
