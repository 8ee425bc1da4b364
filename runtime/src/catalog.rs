//! Every instrumented function linked into the binary, with the `error.type`
//! values it can report (feature `testing`, meant for `[dev-dependencies]`).
//!
//! The semantic conventions ask instrumentations to document the `error.type`
//! values they report, and dashboards and alerts are built on them: a renamed
//! variant silently breaks an alert. The catalog lists, for each operation,
//! the values known at compile time, so that a snapshot test fails when one
//! changes:
//!
//! ```no_run
//! // tests/telemetry_catalog.rs: `UPDATE_TELEMETRY_CATALOG=1 cargo test` rewrites the file.
//! let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("telemetry-catalog.md");
//! let actual = instrument_errors::catalog::markdown();
//! if std::env::var_os("UPDATE_TELEMETRY_CATALOG").is_some() {
//!     std::fs::write(&path, &actual).unwrap();
//! }
//! let expected = std::fs::read_to_string(&path).unwrap_or_default();
//! if let Some(diff) = instrument_errors::catalog::diff(&expected, &actual) {
//!     panic!("the telemetry catalog changed (UPDATE_TELEMETRY_CATALOG=1 to accept):\n{diff}");
//! }
//! ```
//!
//! A method annotated on its own, not through its `impl` block, is named
//! after each `Self` type at run time (`Type::method`); its entry has
//! [`Entry::per_type`] set, and [`markdown`] shows it as `Self::method`
//! (`<module>::Self::method`).
//!
//! # The values
//!
//! [`ErrorTypes::values`] are the values known at compile time:
//!
//! * for an error type with `#[derive(ErrorType)]`: each variant's value,
//!   with `#[error_type(transparent)]` variants resolved to the values of
//!   their field's type (recursively);
//! * for an error type without [`ErrorType`]: its type
//!   name, as reported;
//! * `tonic::Status` (feature `tonic`): the gRPC code names;
//! * with a protocol flag (`kind = server, http`, `kind = client, grpc`):
//!   the statuses that are failures on that side: the gRPC codes, the
//!   registered HTTP codes (other codes are possible: open);
//! * `panic`, for every function;
//! * `_OTHER`, when the values are open (below): computed values past the
//!   cardinality limit, and erased errors made from a bare message, report it.
//!
//! [`ErrorTypes::is_open`] is `true` when other values are possible: an
//! `error_type = ...` or `error_if = ...` function, an erased error
//! (`Box<dyn Error>`, `anyhow::Error`, `eyre::Report`), `std::io::Error`
//! (whose kinds follow the toolchain), a hand-written [`ErrorType`]
//! implementation, or a type the attribute cannot name outside the function:
//! one mentioning `Self`, `impl Trait`, a generic parameter of the function,
//! a path relative to a type (`Backend::Error`: an associated type of a type
//! parameter, since a concrete type's would be written `<T as Trait>::Error`),
//! or a name of at most two capitals and digits (`T`, `E`, `T2`), taken for a
//! generic parameter of the enclosing `impl`. For a method annotated on its
//! own, an error type naming a generic parameter of the enclosing `impl`
//! with a longer name other than through an associated type (`Result<(),
//! Failure>` or `Wrapper<Failure>` in `impl<Failure> ..`) does not compile
//! with the feature (annotating the `impl` block tells the attribute its
//! parameters): give that function `error_type = ...` (open) or rename the
//! parameter.
//!
//! # Registration
//!
//! Each instrumented function is registered with the same link-time technique
//! as the derive's downcasters (`inventory`: Linux, Android, macOS, iOS,
//! FreeBSD, Windows, WebAssembly; the list is empty elsewhere). Without the
//! feature, the attribute registers nothing.

use std::any::type_name;
use std::fmt::Write as _;
use std::future::IntoFuture;
use std::marker::PhantomData;

use opentelemetry::trace::SpanKind;

use crate::cardinality::OTHER;
use crate::error_type::public_type_name;
use crate::frame::PANIC;
use crate::site::{CallSite, Kind};
use crate::ErrorType;

/// One instrumented function.
#[derive(Debug)]
pub struct Entry {
    site: &'static CallSite,
    file: &'static str,
    line: u32,
    values: fn(&mut Values),
    /// A method annotated on its own, named after each `Self` type at run
    /// time: `Some(true)` when its span name is too (no `name = ..`).
    per_type: Option<bool>,
}

inventory::collect!(Entry);

/// Every instrumented function linked into the binary, in no particular order.
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    inventory::iter::<Entry>.into_iter()
}

impl Entry {
    /// Made by the expansion of `#[instrument_errors]`; not public API.
    /// `per_type`: a method annotated on its own, named after each `Self`
    /// type at run time (its span name too when `Some(true)`).
    #[doc(hidden)]
    pub const fn __new(
        site: &'static CallSite,
        file: &'static str,
        line: u32,
        values: fn(&mut Values),
        per_type: Option<bool>,
    ) -> Entry {
        Entry {
            site,
            file,
            line,
            values,
            per_type,
        }
    }

    /// `true` for a method annotated on its own, not through its `impl`
    /// block: the attribute could not see its type, so its
    /// `code.function.name` (`<module>::Type::method`) and, without
    /// `name = ..`, its span name (`Type::method`) are completed at run time
    /// for each `Self` type it runs for. [`name`](Entry::name) and
    /// [`function`](Entry::function) give the names it was compiled with;
    /// [`markdown`] shows `Self` in place of the type.
    pub fn per_type(&self) -> bool {
        self.per_type.is_some()
    }

    /// The span name (the operation).
    pub fn name(&self) -> &'static str {
        self.site.info().name
    }

    /// The span kind.
    pub fn kind(&self) -> SpanKind {
        self.site.info().kind.into()
    }

    /// The duration histogram's name.
    pub fn metric(&self) -> &'static str {
        self.site.info().metric_name()
    }

    /// `code.function.name`.
    pub fn function(&self) -> &'static str {
        self.site.info().function
    }

    /// The source file of the function.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the function's name.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The `error.type` values it can report.
    pub fn error_types(&self) -> ErrorTypes {
        let mut values = Values::default();
        (self.values)(&mut values);
        values.push(PANIC);
        if values.open {
            values.push(OTHER);
        }
        values.values.sort_unstable();
        values.values.dedup();
        ErrorTypes {
            values: values.values,
            open: values.open,
        }
    }
}

/// The `error.type` values of one function (see [the module](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorTypes {
    values: Vec<&'static str>,
    open: bool,
}

impl ErrorTypes {
    /// The values known at compile time, sorted.
    pub fn values(&self) -> &[&'static str] {
        &self.values
    }

    /// `true` when other values are possible.
    pub fn is_open(&self) -> bool {
        self.open
    }
}

/// The catalog as a Markdown table, sorted by operation name (then
/// function), without files and lines: only a change of operations or of
/// their values changes it.
pub fn markdown() -> String {
    let mut rows: Vec<(String, String, &Entry)> = entries()
        .map(|entry| {
            // A method annotated on its own: `Self` stands for each type.
            let (name, function) = match entry.per_type {
                None => (entry.name().to_owned(), entry.function().to_owned()),
                Some(rename) => (
                    if rename {
                        format!("Self::{}", entry.name())
                    } else {
                        entry.name().to_owned()
                    },
                    match entry.function().rsplit_once("::") {
                        Some((module, method)) => format!("{module}::Self::{method}"),
                        None => format!("Self::{}", entry.function()),
                    },
                ),
            };
            (name, function, entry)
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut out = String::from(
        "| operation | kind | duration histogram | function | `error.type` |\n|---|---|---|---|---|\n",
    );
    for (name, function, entry) in rows {
        let types = entry.error_types();
        let mut values: Vec<String> = types.values().iter().map(|v| format!("`{v}`")).collect();
        if types.is_open() {
            values.push("others".to_owned());
        }
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | `{}` | {} |",
            name.replace('|', "\\|"),
            kind_name(entry.site.info().kind),
            entry.metric(),
            function,
            values.join(", ").replace('|', "\\|"),
        );
    }
    out
}

/// The lines of `actual` missing from `expected` (`+`) and of `expected`
/// missing from `actual` (`-`), in order; `None` when they are equal. For a
/// snapshot test of [`markdown`].
pub fn diff(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for line in &old {
        if !new.contains(line) {
            let _ = writeln!(out, "- {line}");
        }
    }
    for line in &new {
        if !old.contains(line) {
            let _ = writeln!(out, "+ {line}");
        }
    }
    if out.is_empty() {
        out.push_str("(the same lines, in another order or with other line endings)\n");
    }
    Some(out)
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Internal => "internal",
        Kind::Client => "client",
        Kind::Server => "server",
        Kind::Producer => "producer",
        Kind::Consumer => "consumer",
    }
}

/// The values being collected for one function; not public API.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Values {
    values: Vec<&'static str>,
    open: bool,
    /// The derived types being expanded, against recursive types.
    visiting: Vec<&'static str>,
}

impl Values {
    /// A value known at compile time.
    pub fn push(&mut self, value: &'static str) {
        self.values.push(value);
    }

    /// Other values are possible.
    pub fn open(&mut self) {
        self.open = true;
    }

    /// Enters the derived type `name`; `false` when it is already being
    /// expanded (a recursive type).
    pub fn enter(&mut self, name: &'static str) -> bool {
        if self.visiting.contains(&name) {
            return false;
        }
        self.visiting.push(name);
        true
    }

    /// Leaves the derived type entered last.
    pub fn leave(&mut self) {
        self.visiting.pop();
    }
}

/// The values of a type with `#[derive(ErrorType)]`, implemented by the
/// derive with the feature; not public API.
#[doc(hidden)]
pub trait ErrorTypeValues {
    /// Adds the type's values to `out`.
    fn ie_values(out: &mut Values);
}

impl<E: ErrorTypeValues + ?Sized> ErrorTypeValues for Box<E> {
    fn ie_values(out: &mut Values) {
        E::ie_values(out);
    }
}

impl<E: ErrorTypeValues + ?Sized> ErrorTypeValues for &E {
    fn ie_values(out: &mut Values) {
        E::ie_values(out);
    }
}

#[cfg(feature = "tonic")]
impl ErrorTypeValues for tonic::Status {
    fn ie_values(out: &mut Values) {
        use tonic::Code::*;
        for code in [
            Ok,
            Cancelled,
            Unknown,
            InvalidArgument,
            DeadlineExceeded,
            NotFound,
            AlreadyExists,
            PermissionDenied,
            ResourceExhausted,
            FailedPrecondition,
            Aborted,
            OutOfRange,
            Unimplemented,
            Internal,
            Unavailable,
            DataLoss,
            Unauthenticated,
        ] {
            out.push(crate::grpc::code_name(code));
        }
    }
}

/// The statuses a protocol flag can report, for the catalog. Not public API.
#[doc(hidden)]
pub trait Statuses: crate::protocol::Protocol {
    /// Calls `f` with each status listed, and says whether others exist.
    fn each(f: &mut dyn FnMut(&Self::Status)) -> bool;
}

/// HTTP: the registered status codes (those with a canonical reason); other
/// codes are possible, so the values are open.
#[cfg(feature = "http")]
impl Statuses for crate::protocol::Http {
    fn each(f: &mut dyn FnMut(&http::StatusCode)) -> bool {
        for code in 100..=599 {
            match http::StatusCode::from_u16(code) {
                Ok(status) if status.canonical_reason().is_some() => f(&status),
                _ => {}
            }
        }
        true
    }
}

/// gRPC: every code.
#[cfg(feature = "tonic")]
impl Statuses for crate::protocol::Grpc {
    fn each(f: &mut dyn FnMut(&tonic::Code)) -> bool {
        for code in 0..=16 {
            f(&tonic::Code::from_i32(code));
        }
        false
    }
}

/// Databases: the codes are the database's (SQLSTATE, SQLite result codes):
/// open.
#[cfg(feature = "sqlx")]
impl Statuses for crate::protocol::Db {
    fn each(_: &mut dyn FnMut(&Self::Status)) -> bool {
        true
    }
}

/// The values of a protocol flag (`kind = server, http`): the statuses that
/// are failures on `side`. Called by the expansion; not public API.
#[doc(hidden)]
pub fn protocol_values<P: Statuses>(side: crate::protocol::Side, out: &mut Values) {
    let mut computed = false;
    let open = P::each(&mut |status| {
        if P::is_failure(side, status) {
            match P::error_type(status) {
                std::borrow::Cow::Borrowed(value) => out.push(value),
                std::borrow::Cow::Owned(_) => computed = true,
            }
        }
    });
    if open || computed {
        out.open();
    }
}

/// The type whose values are probed, by autoref-based specialization:
/// `(&&&&&Probe::<T>::NEW).ie_values(out)`. Not public API.
#[doc(hidden)]
pub struct Probe<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

impl<T: ?Sized> Probe<T> {
    /// The probe for `T`.
    pub const NEW: Self = Probe(PhantomData);
}

macro_rules! probes {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[doc(hidden)]
        pub trait $name {
            /// Adds the values to `out`.
            fn ie_values(&self, out: &mut Values);
        }
    )*};
}

probes! {
    /// An error type with `#[derive(ErrorType)]` (or the return type
    /// `Result<_, E>` of one): its values.
    ViaDerivedValues;
    /// Another [`ErrorType`] implementation: open.
    ViaErrorTypeImpl;
    /// An error type without [`ErrorType`]: its type name. A return type
    /// that is a future the attribute could not see through: open.
    ViaTypeNameValue;
    /// A return type that is not a `Result`: nothing.
    ViaNoValues;
}

// Error types: `(&&&&Probe::<E>::NEW).ie_values(out)`.

impl<E: ErrorTypeValues + ?Sized> ViaDerivedValues for &&&Probe<E> {
    fn ie_values(&self, out: &mut Values) {
        E::ie_values(out);
    }
}

impl<E: ErrorType + ?Sized> ViaErrorTypeImpl for &&Probe<E> {
    fn ie_values(&self, out: &mut Values) {
        out.open();
    }
}

/// A transparent field whose type is a `std::error::Error` without
/// [`ErrorType`]: the type-erased rule walks its `source()` chain; its own
/// name when it has no source, other values possible.
#[doc(hidden)]
pub trait ViaErrorValues {
    /// Adds the values to `out`.
    fn ie_values(&self, out: &mut Values);
}

impl<E: std::error::Error + ?Sized> ViaErrorValues for &Probe<E> {
    fn ie_values(&self, out: &mut Values) {
        out.push(public_type_name(type_name::<E>()));
        out.open();
    }
}

impl<E: ?Sized> ViaTypeNameValue for Probe<E> {
    fn ie_values(&self, out: &mut Values) {
        out.push(public_type_name(type_name::<E>()));
    }
}

/// The return type whose values are probed: `(&&&&&Returned::<R>::NEW)
/// .ie_values(out)`, with the `Ok` type replaced by `()`. Not public API.
#[doc(hidden)]
pub struct Returned<R: ?Sized>(PhantomData<fn() -> PhantomData<R>>);

impl<R: ?Sized> Returned<R> {
    /// The probe for `R`.
    pub const NEW: Self = Returned(PhantomData);
}

impl<T, E: ErrorTypeValues> ViaDerivedValues for &&&&Returned<Result<T, E>> {
    fn ie_values(&self, out: &mut Values) {
        E::ie_values(out);
    }
}

impl<T, E: ErrorType> ViaErrorTypeImpl for &&&Returned<Result<T, E>> {
    fn ie_values(&self, out: &mut Values) {
        out.open();
    }
}

impl<T, E> ViaTypeNameValue for &&Returned<Result<T, E>> {
    fn ie_values(&self, out: &mut Values) {
        out.push(public_type_name(type_name::<E>()));
    }
}

/// A future the attribute could not see through (an alias of a boxed
/// future): open.
#[doc(hidden)]
pub trait ViaFutureValues {
    /// Adds the values to `out`.
    fn ie_values(&self, out: &mut Values);
}

impl<R: IntoFuture> ViaFutureValues for &Returned<R> {
    fn ie_values(&self, out: &mut Values) {
        out.open();
    }
}

impl<R: ?Sized> ViaNoValues for Returned<R> {
    fn ie_values(&self, _: &mut Values) {}
}

/// Registers an instrumented function in the catalog (feature `testing`;
/// without it, this expands to nothing). Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __catalog_entry {
    ($site:ident, $file:expr, $line:expr, per_type($rename:expr), |$out:ident| $values:block) => {
        $crate::__catalog_entry!(@ $site, $file, $line, ::core::option::Option::Some($rename), |$out| $values)
    };
    ($site:ident, $file:expr, $line:expr, |$out:ident| $values:block) => {
        $crate::__catalog_entry!(@ $site, $file, $line, ::core::option::Option::None, |$out| $values)
    };
    (@ $site:ident, $file:expr, $line:expr, $per_type:expr, |$out:ident| $values:block) => {
        $crate::__private::inventory::submit! {
            $crate::catalog::Entry::__new(&$site, $file, $line, {
                fn __ie_values($out: &mut $crate::catalog::Values) {
                    #[allow(unused_imports)]
                    use $crate::catalog::{
                        ViaDerivedValues as _, ViaErrorTypeImpl as _, ViaFutureValues as _,
                        ViaNoValues as _, ViaTypeNameValue as _,
                    };
                    $values
                }
                __ie_values
            }, $per_type)
        }
    };
}

/// The derive's [`ErrorTypeValues`] implementation (feature `testing`;
/// without it, this expands to nothing). Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __catalog_values {
    ($($item:tt)*) => {
        #[allow(unused_imports)]
        const _: () = {
            use $crate::catalog::{
                ViaDerivedValues as _, ViaErrorTypeImpl as _, ViaErrorValues as _,
                ViaTypeNameValue as _,
            };
            $($item)*
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_the_changed_lines() {
        assert_eq!(diff("a\nb\n", "a\nb\n"), None);
        assert_eq!(diff("a\nb\n", "a\nc\n").as_deref(), Some("- b\n+ c\n"));
        assert_eq!(diff("", "a\n").as_deref(), Some("+ a\n"));
        assert!(diff("a\nb\n", "b\na\n").is_some());
    }

    #[derive(Debug)]
    struct Looping;
    impl ErrorTypeValues for Looping {
        fn ie_values(out: &mut Values) {
            if out.enter("Looping") {
                out.push("looping");
                Looping::ie_values(out);
                out.leave();
            }
        }
    }

    #[test]
    // The autoref probes are called as the expansion calls them.
    #[allow(clippy::needless_borrow)]
    fn probes() {
        let mut out = Values::default();
        (&&&&Probe::<Looping>::NEW).ie_values(&mut out);
        (&&&&Probe::<std::io::Error>::NEW).ie_values(&mut out);
        (&&&&Probe::<std::num::ParseIntError>::NEW).ie_values(&mut out);
        (&&&&Probe::<u8>::NEW).ie_values(&mut out);
        assert_eq!(out.values, ["looping", "std::num::ParseIntError", "u8"]);
        assert!(out.open);
        let mut out = Values::default();
        (&&&&&Returned::<Result<(), Box<Looping>>>::NEW).ie_values(&mut out);
        (&&&&&Returned::<Option<u8>>::NEW).ie_values(&mut out);
        (&&&&&Returned::<Result<(), u8>>::NEW).ie_values(&mut out);
        assert_eq!(out.values, ["looping", "u8"]);
        assert!(!out.open);
        (&&&&&Returned::<std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>>::NEW)
            .ie_values(&mut out);
        assert!(out.open);
    }
}
