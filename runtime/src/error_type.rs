//! `error.type` for the errors real Rust code returns: `std::io::Error`,
//! type-erased errors (`Box<dyn Error>`, `anyhow::Error`, `eyre::Report`)
//! and std errors whose type name is a private path.
//!
//! # Type-erased errors
//!
//! The `error.type` of a `dyn Error` is the first error along its `source()`
//! chain, outermost first, that has a known value:
//!
//! 1. a type that derives [`ErrorType`](crate::ErrorType): its value (the
//!    derive registers a downcaster at link time, see below);
//! 2. a `std::io::Error`: `std::io::ErrorKind::<Kind>`;
//!
//! else a value from the root cause's (the last `source()`) concrete type:
//! the public path of a std error type the crate knows (for instance
//! `std::num::ParseIntError`), else the first identifier of its `Debug`
//! output (as error trackers do: `MyError { .. }` gives `MyError`), else
//! [`OTHER`] (a `Box<dyn Error>` made from a string, `anyhow!("...")`). The
//! wrapper's own type name is never reported.
//!
//! # How derived types are found
//!
//! `#[derive(ErrorType)]` on a non-generic type also submits a downcaster
//! for it to a process-wide list built with `inventory` (life-before-main
//! registration, no setup by the user). It works on Linux, Android, macOS,
//! iOS, FreeBSD, Windows and WebAssembly (where it needs the module's
//! constructors to run, as with `wasm-bindgen`); elsewhere the list is empty
//! and derived types inside erased errors fall back to the root-cause rule.
//! Types that implement `ErrorType` by hand join the list with
//! `register_error_type!` (the crate registers `sqlx::Error` so, feature
//! `sqlx`); generic types are not in it.
//!
//! # Transparent fields without `ErrorType`
//!
//! `#[error_type(transparent)]` over a field whose type has no `ErrorType`
//! applies `field_error_type` to it when it is a `std::error::Error`, and
//! reports its type's name otherwise (the probes `TransparentField`).

use std::any::type_name;
use std::borrow::Cow;
use std::error::Error;
use std::fmt::{self, Write as _};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::cardinality::OTHER;
use crate::exception::SOURCE_DEPTH_LIMIT;
use crate::ErrorType;

// ------------------------------------------------------------- std::io::Error

/// `std::io::ErrorKind::<Kind>`, for example `std::io::ErrorKind::NotFound`.
///
/// An `ErrorKind::Other` error that wraps a payload
/// (`std::io::Error::other(e)`) reports the payload's value when it has a
/// known one (see [type-erased errors](crate#type-erased-errors)), so that
/// the original error is preferred to its wrapper; else
/// `std::io::ErrorKind::Other`. A kind this crate does not know (one added
/// to std later) is `std::io::ErrorKind::` followed by its `Debug` name, a
/// computed value counted against [`ERROR_TYPE_LIMIT`](crate::ERROR_TYPE_LIMIT).
impl ErrorType for io::Error {
    fn error_type(&self) -> Cow<'static, str> {
        if self.kind() == io::ErrorKind::Other {
            if let Some(payload) = self.get_ref() {
                if let Some(known) = erased_error_type(payload) {
                    return known;
                }
            }
        }
        io_kind(self.kind())
    }
}

/// The `error.type` of an `ErrorKind`: a `&'static str` for every kind std
/// has (no allocation).
pub(crate) fn io_kind(kind: io::ErrorKind) -> Cow<'static, str> {
    use io::ErrorKind::*;
    // The kinds stable at the crate's minimum Rust version, by name.
    let known = match kind {
        NotFound => "std::io::ErrorKind::NotFound",
        PermissionDenied => "std::io::ErrorKind::PermissionDenied",
        ConnectionRefused => "std::io::ErrorKind::ConnectionRefused",
        ConnectionReset => "std::io::ErrorKind::ConnectionReset",
        ConnectionAborted => "std::io::ErrorKind::ConnectionAborted",
        NotConnected => "std::io::ErrorKind::NotConnected",
        AddrInUse => "std::io::ErrorKind::AddrInUse",
        AddrNotAvailable => "std::io::ErrorKind::AddrNotAvailable",
        BrokenPipe => "std::io::ErrorKind::BrokenPipe",
        AlreadyExists => "std::io::ErrorKind::AlreadyExists",
        WouldBlock => "std::io::ErrorKind::WouldBlock",
        InvalidInput => "std::io::ErrorKind::InvalidInput",
        InvalidData => "std::io::ErrorKind::InvalidData",
        TimedOut => "std::io::ErrorKind::TimedOut",
        WriteZero => "std::io::ErrorKind::WriteZero",
        Interrupted => "std::io::ErrorKind::Interrupted",
        Unsupported => "std::io::ErrorKind::Unsupported",
        UnexpectedEof => "std::io::ErrorKind::UnexpectedEof",
        OutOfMemory => "std::io::ErrorKind::OutOfMemory",
        Other => "std::io::ErrorKind::Other",
        // Kinds stabilized later (and the unstable ones std returns), by
        // their `Debug` name, so that the crate builds on older compilers.
        _ => return later_io_kind(kind),
    };
    Cow::Borrowed(known)
}

/// Kinds named by their `Debug` output, formatted on the stack.
fn later_io_kind(kind: io::ErrorKind) -> Cow<'static, str> {
    const LATER: &[&str] = &[
        "std::io::ErrorKind::HostUnreachable",
        "std::io::ErrorKind::NetworkUnreachable",
        "std::io::ErrorKind::NetworkDown",
        "std::io::ErrorKind::NotADirectory",
        "std::io::ErrorKind::IsADirectory",
        "std::io::ErrorKind::DirectoryNotEmpty",
        "std::io::ErrorKind::ReadOnlyFilesystem",
        "std::io::ErrorKind::FilesystemLoop",
        "std::io::ErrorKind::StaleNetworkFileHandle",
        "std::io::ErrorKind::StorageFull",
        "std::io::ErrorKind::NotSeekable",
        "std::io::ErrorKind::QuotaExceeded",
        "std::io::ErrorKind::FilesystemQuotaExceeded",
        "std::io::ErrorKind::FileTooLarge",
        "std::io::ErrorKind::ResourceBusy",
        "std::io::ErrorKind::ExecutableFileBusy",
        "std::io::ErrorKind::Deadlock",
        "std::io::ErrorKind::CrossesDevices",
        "std::io::ErrorKind::TooManyLinks",
        "std::io::ErrorKind::InvalidFilename",
        "std::io::ErrorKind::ArgumentListTooLong",
        "std::io::ErrorKind::InProgress",
        "std::io::ErrorKind::Uncategorized",
    ];
    let mut name = Identifier::new();
    let _ = write!(name, "{kind:?}");
    let Some(name) = name.get() else {
        return Cow::Borrowed(OTHER);
    };
    match LATER
        .iter()
        .find(|full| full.strip_prefix("std::io::ErrorKind::") == Some(name))
    {
        Some(full) => Cow::Borrowed(full),
        None => Cow::Owned(format!("std::io::ErrorKind::{name}")),
    }
}

// ------------------------------------------------------------- std errors

macro_rules! std_errors {
    ($($ty:ty => $name:literal,)*) => {
        /// The public path of a std error type this crate knows.
        fn std_error_name(error: &(dyn Error + 'static)) -> Option<&'static str> {
            $(
                if error.is::<$ty>() {
                    return Some($name);
                }
            )*
            None
        }

        /// `type_name` with the private module paths of known std error
        /// types replaced by their public paths
        /// (`core::num::error::ParseIntError` -> `std::num::ParseIntError`).
        pub(crate) fn public_type_name(name: &'static str) -> &'static str {
            if !(name.starts_with("core::") || name.starts_with("alloc::")
                || name.starts_with("std::"))
            {
                return name;
            }
            $(
                if name == type_name::<$ty>() {
                    return $name;
                }
            )*
            name
        }

        #[cfg(test)]
        pub(crate) const STD_ERROR_NAMES: &[&str] = &[$($name),*];
    };
}

std_errors! {
    std::num::ParseIntError => "std::num::ParseIntError",
    std::num::ParseFloatError => "std::num::ParseFloatError",
    std::num::TryFromIntError => "std::num::TryFromIntError",
    std::str::ParseBoolError => "std::str::ParseBoolError",
    std::str::Utf8Error => "std::str::Utf8Error",
    std::string::FromUtf8Error => "std::string::FromUtf8Error",
    std::string::FromUtf16Error => "std::string::FromUtf16Error",
    std::char::ParseCharError => "std::char::ParseCharError",
    std::char::CharTryFromError => "std::char::CharTryFromError",
    std::char::TryFromCharError => "std::char::TryFromCharError",
    std::array::TryFromSliceError => "std::array::TryFromSliceError",
    std::fmt::Error => "std::fmt::Error",
    std::net::AddrParseError => "std::net::AddrParseError",
    std::time::SystemTimeError => "std::time::SystemTimeError",
    std::time::TryFromFloatSecsError => "std::time::TryFromFloatSecsError",
    std::sync::mpsc::RecvError => "std::sync::mpsc::RecvError",
    std::sync::mpsc::TryRecvError => "std::sync::mpsc::TryRecvError",
    std::sync::mpsc::RecvTimeoutError => "std::sync::mpsc::RecvTimeoutError",
    std::ffi::NulError => "std::ffi::NulError",
    std::ffi::FromBytesWithNulError => "std::ffi::FromBytesWithNulError",
    std::ffi::FromBytesUntilNulError => "std::ffi::FromBytesUntilNulError",
    std::ffi::FromVecWithNulError => "std::ffi::FromVecWithNulError",
    std::ffi::IntoStringError => "std::ffi::IntoStringError",
    std::env::VarError => "std::env::VarError",
    std::env::JoinPathsError => "std::env::JoinPathsError",
    std::path::StripPrefixError => "std::path::StripPrefixError",
    std::cell::BorrowError => "std::cell::BorrowError",
    std::cell::BorrowMutError => "std::cell::BorrowMutError",
    std::alloc::LayoutError => "std::alloc::LayoutError",
    std::collections::TryReserveError => "std::collections::TryReserveError",
    std::thread::AccessError => "std::thread::AccessError",
}

/// The `error.type` of an error type without a value of its own: its type
/// name, seen through smart pointers (`Box<E>`, `Arc<E>`, `Rc<E>`), with the public path of a std error type, and
/// without generic arguments: `tokio::sync::mpsc::error::SendError<app::Job>`
/// gives `tokio::sync::mpsc::error::SendError`. A slice of the static name:
/// a bounded set, not counted against the limit.
pub(crate) fn error_type_name(name: &'static str) -> &'static str {
    let mut name = name;
    loop {
        let wrapped = ["alloc::boxed::Box<", "alloc::sync::Arc<", "alloc::rc::Rc<"]
            .iter()
            .find_map(|w| name.strip_prefix(w).and_then(|n| n.strip_suffix('>')));
        match wrapped {
            Some(inner) => name = inner,
            None => break,
        }
    }
    let name = public_type_name(name);
    match name.find('<') {
        Some(at) if at > 0 => &name[..at],
        _ => name,
    }
}

// ------------------------------------------------------------- erased errors

/// The `error.type` of a type-erased error, `None` when nothing along its
/// chain tells one (the caller then reports [`OTHER`] or its own fallback).
pub(crate) fn erased_error_type(error: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
    match walk(error) {
        Ok(known) => Some(known),
        Err(root) => root_type_name(root),
    }
}

/// The first known value along the chain, else the root cause.
fn walk<'a>(
    error: &'a (dyn Error + 'static),
) -> Result<Cow<'static, str>, &'a (dyn Error + 'static)> {
    let mut root = error;
    let mut current = Some(error);
    for _ in 0..SOURCE_DEPTH_LIMIT {
        let Some(e) = current else { break };
        if let Some(known) = known(e) {
            return Ok(known);
        }
        root = e;
        current = e.source();
    }
    Err(root)
}

/// The root cause's type: a std error's public path, else the first
/// identifier of its `Debug` output.
fn root_type_name(root: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
    if let Some(name) = std_error_name(root) {
        return Some(Cow::Borrowed(name));
    }
    debug_type_name(root).map(Cow::Owned)
}

/// The `error.type` of a field of `#[error_type(transparent)]` whose type
/// implements `std::error::Error` but not [`ErrorType`]: the type-erased rule
/// on it (the first derived, registered or `std::io::Error` value along its
/// `source()` chain, the field itself first), else, when the field is its own
/// root cause, its type's public path (`std::num::ParseIntError`,
/// `serde_json::error::Error`), else the root cause's type, else the field's
/// type's path.
pub fn field_error_type<F: Error + 'static>(field: &F) -> Cow<'static, str> {
    let error: &(dyn Error + 'static) = field;
    match walk(error) {
        Ok(known) => known,
        Err(root) if !std::ptr::addr_eq(root, error) => root_type_name(root)
            .unwrap_or_else(|| Cow::Borrowed(public_type_name(type_name::<F>()))),
        Err(_) => Cow::Borrowed(public_type_name(type_name::<F>())),
    }
}

/// The value of one error of a chain when its type is known: a derived
/// `ErrorType` or a `std::io::Error`.
fn known(error: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
    for registered in inventory::iter::<Downcaster> {
        if let Some(found) = (registered.0)(error) {
            return Some(found);
        }
    }
    error.downcast_ref::<io::Error>().map(ErrorType::error_type)
}

/// The first identifier or path of the error's `Debug` output
/// (`ParseIntError { kind: InvalidDigit }` gives `ParseIntError`,
/// `hyper::Error(IncompleteMessage)` gives `hyper::Error`), as error trackers
/// name an error they only know as `dyn Error`. `None` when the output does not start
/// with an identifier (a quoted string) or `Debug` panics.
fn debug_type_name(error: &(dyn Error + 'static)) -> Option<String> {
    let mut name = Identifier::new();
    catch_unwind(AssertUnwindSafe(|| {
        let _ = write!(name, "{error:?}");
    }))
    .ok()?;
    name.get().map(str::to_owned)
}

/// A `fmt::Write` that keeps the leading identifier of what is written, on
/// the stack, and stops the formatting at the first other character.
pub(crate) struct Identifier {
    buf: [u8; Identifier::MAX],
    len: usize,
    /// The identifier ended (or was too long): refuse further writes.
    done: bool,
    too_long: bool,
}

impl Identifier {
    const MAX: usize = 128;

    pub(crate) fn new() -> Self {
        Identifier {
            buf: [0; Identifier::MAX],
            len: 0,
            done: false,
            too_long: false,
        }
    }

    pub(crate) fn get(&self) -> Option<&str> {
        let s = std::str::from_utf8(&self.buf[..self.len]).ok()?;
        // The longest prefix made of `::`-separated identifiers.
        let mut end = 0;
        for (at, segment) in s.split("::").scan(0, |at, seg| {
            let start = *at;
            *at += seg.len() + 2;
            Some((start, seg))
        }) {
            let starts = segment
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
            let len = segment
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if !starts {
                break;
            }
            end = at + len;
            if len < segment.len() {
                break;
            }
        }
        (!self.too_long && end > 0).then_some(&s[..end])
    }
}

impl fmt::Write for Identifier {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.done {
            return Err(fmt::Error);
        }
        for b in s.bytes() {
            if !(b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
                self.done = true;
                return Err(fmt::Error);
            }
            if self.len == Identifier::MAX {
                self.too_long = true;
                self.done = true;
                return Err(fmt::Error);
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// `error.type` of a type-erased error: see [type-erased
/// errors](crate#type-erased-errors). [`OTHER`] when nothing along the chain
/// tells a value.
impl ErrorType for dyn Error + 'static {
    fn error_type(&self) -> Cow<'static, str> {
        erased_error_type(self).unwrap_or(Cow::Borrowed(OTHER))
    }
}

/// As for `dyn Error`.
impl ErrorType for dyn Error + Send + 'static {
    fn error_type(&self) -> Cow<'static, str> {
        erased_error_type(self).unwrap_or(Cow::Borrowed(OTHER))
    }
}

/// As for `dyn Error`.
impl ErrorType for dyn Error + Send + Sync + 'static {
    fn error_type(&self) -> Cow<'static, str> {
        erased_error_type(self).unwrap_or(Cow::Borrowed(OTHER))
    }
}

/// As for `dyn Error`.
impl ErrorType for dyn Error + Sync + 'static {
    fn error_type(&self) -> Cow<'static, str> {
        erased_error_type(self).unwrap_or(Cow::Borrowed(OTHER))
    }
}

/// As for `dyn Error`, over the error's chain (the outermost context first).
#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
impl ErrorType for anyhow::Error {
    fn error_type(&self) -> Cow<'static, str> {
        erased_error_type(&**self).unwrap_or(Cow::Borrowed(OTHER))
    }
}

/// As for `dyn Error`, over the report's chain (the outermost context first).
#[cfg(feature = "eyre")]
#[cfg_attr(docsrs, doc(cfg(feature = "eyre")))]
impl ErrorType for eyre::Report {
    fn error_type(&self) -> Cow<'static, str> {
        erased_error_type(&**self).unwrap_or(Cow::Borrowed(OTHER))
    }
}

// ------------------------------------------------------------- registration

/// A derived type's downcaster: its `error.type` when the error is of that
/// type. Submitted by `#[derive(ErrorType)]`.
#[derive(Debug)]
pub struct Downcaster(pub fn(&(dyn Error + 'static)) -> Option<Cow<'static, str>>);

impl Downcaster {
    /// Wraps the function.
    pub const fn new(f: fn(&(dyn Error + 'static)) -> Option<Cow<'static, str>>) -> Self {
        Downcaster(f)
    }
}

inventory::collect!(Downcaster);

/// Names the type a downcaster is for; call the probes below as
/// `(&Downcast::<T>::NEW).ie_downcast(error)`.
#[derive(Debug)]
pub struct Downcast<T: ?Sized>(std::marker::PhantomData<fn() -> *const T>);

impl<T: ?Sized> Downcast<T> {
    /// The probe.
    pub const NEW: Self = Downcast(std::marker::PhantomData);
}

/// The downcaster of a type that implements `std::error::Error`.
pub trait ViaDowncast {
    /// The error's `error.type` when it is a `T`.
    fn ie_downcast(&self, error: &(dyn Error + 'static)) -> Option<Cow<'static, str>>;
}

impl<T: Error + ErrorType + 'static> ViaDowncast for Downcast<T> {
    #[inline]
    fn ie_downcast(&self, error: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
        error.downcast_ref::<T>().map(ErrorType::error_type)
    }
}

/// A type that is not `std::error::Error` is never inside a `dyn Error`.
pub trait ViaNoDowncast {
    /// Always `None`.
    fn ie_downcast(&self, error: &(dyn Error + 'static)) -> Option<Cow<'static, str>>;
}

impl<T: ?Sized> ViaNoDowncast for &Downcast<T> {
    #[inline]
    fn ie_downcast(&self, _: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
        None
    }
}

// ------------------------------------------------------------- transparent

/// Wraps the field of a `#[error_type(transparent)]` variant or struct for
/// the probes below; call them as
/// `(&&&TransparentField(field)).ie_field_error_type()`.
#[derive(Debug)]
pub struct TransparentField<'a, F: ?Sized>(pub &'a F);

/// The field's [`ErrorType`].
pub trait ViaFieldErrorType {
    /// The field's `error.type`.
    fn ie_field_error_type(&self) -> Cow<'static, str>;
}

impl<F: ErrorType + ?Sized> ViaFieldErrorType for &&TransparentField<'_, F> {
    #[inline]
    fn ie_field_error_type(&self) -> Cow<'static, str> {
        self.0.error_type()
    }
}

/// A field that is a `std::error::Error` without [`ErrorType`]:
/// the type-erased rule on it, or its type's path.
pub trait ViaFieldError {
    /// The field's `error.type`.
    fn ie_field_error_type(&self) -> Cow<'static, str>;
}

impl<F: Error + 'static> ViaFieldError for &TransparentField<'_, F> {
    #[inline]
    fn ie_field_error_type(&self) -> Cow<'static, str> {
        field_error_type(self.0)
    }
}

/// Any other field: its type's name.
pub trait ViaFieldTypeName {
    /// The field type's public path.
    fn ie_field_error_type(&self) -> Cow<'static, str>;
}

impl<F: ?Sized> ViaFieldTypeName for TransparentField<'_, F> {
    #[inline]
    fn ie_field_error_type(&self) -> Cow<'static, str> {
        Cow::Borrowed(public_type_name(type_name::<F>()))
    }
}

#[cfg(test)]
// The borrows select the specialization under test.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(&'static str, Option<Box<dyn Error + Send + Sync>>);
    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    #[derive(Debug)]
    enum Registered {
        Timeout,
    }
    impl fmt::Display for Registered {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("registered")
        }
    }
    impl Error for Registered {}
    impl ErrorType for Registered {
        fn error_type(&self) -> Cow<'static, str> {
            match self {
                Registered::Timeout => Cow::Borrowed("registered_timeout"),
            }
        }
    }
    // What `#[derive(ErrorType)]` emits.
    inventory::submit! {
        Downcaster::new({
            fn downcast(e: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
                #[allow(unused_imports)]
                use super::{ViaDowncast as _, ViaNoDowncast as _};
                (&Downcast::<Registered>::NEW).ie_downcast(e)
            }
            downcast
        })
    }

    /// Not `Error`: its downcaster is the `None` one.
    struct NotAnError;
    inventory::submit! {
        Downcaster::new({
            fn downcast(e: &(dyn Error + 'static)) -> Option<Cow<'static, str>> {
                #[allow(unused_imports)]
                use super::{ViaDowncast as _, ViaNoDowncast as _};
                (&Downcast::<NotAnError>::NEW).ie_downcast(e)
            }
            downcast
        })
    }

    fn wrap(msg: &'static str, inner: impl Error + Send + Sync + 'static) -> Wrapper {
        Wrapper(msg, Some(Box::new(inner)))
    }

    fn of(e: &(dyn Error + 'static)) -> Cow<'static, str> {
        e.error_type()
    }

    #[test]
    fn io_kinds_are_told_apart() {
        let nf = io::Error::new(io::ErrorKind::NotFound, "x");
        let pd = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(nf.error_type(), "std::io::ErrorKind::NotFound");
        assert_eq!(pd.error_type(), "std::io::ErrorKind::PermissionDenied");
        assert!(matches!(nf.error_type(), Cow::Borrowed(_)));
        assert_eq!(
            io::Error::other("plain").error_type(),
            "std::io::ErrorKind::Other"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn io_kinds_stabilized_later_are_static_too() {
        // ENOTDIR, ENOTEMPTY, ENOSPC: kinds newer than the minimum Rust version.
        for (code, name) in [
            (20, "std::io::ErrorKind::NotADirectory"),
            (39, "std::io::ErrorKind::DirectoryNotEmpty"),
            (28, "std::io::ErrorKind::StorageFull"),
        ] {
            let t = io::Error::from_raw_os_error(code).error_type();
            assert_eq!(t, name);
            assert!(matches!(t, Cow::Borrowed(_)));
        }
    }

    #[test]
    fn io_other_prefers_a_known_payload() {
        assert_eq!(
            io::Error::other(Registered::Timeout).error_type(),
            "registered_timeout"
        );
        let parse = "x".parse::<u8>().unwrap_err();
        assert_eq!(
            io::Error::other(parse.clone()).error_type(),
            "std::num::ParseIntError"
        );
        // Not for other kinds: the kind is what the code chose to say.
        assert_eq!(
            io::Error::new(io::ErrorKind::InvalidData, parse).error_type(),
            "std::io::ErrorKind::InvalidData"
        );
    }

    #[test]
    fn the_first_known_error_along_the_chain_wins() {
        let e = wrap("a", wrap("b", Registered::Timeout));
        assert_eq!(of(&e), "registered_timeout");
        let e = wrap("a", io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(of(&e), "std::io::ErrorKind::NotFound");
        let boxed: Box<dyn Error + Send + Sync> =
            Box::new(wrap("a", io::Error::from(io::ErrorKind::BrokenPipe)));
        assert_eq!(boxed.error_type(), "std::io::ErrorKind::BrokenPipe");
    }

    #[test]
    fn else_the_root_cause_type() {
        let e = wrap("a", "x".parse::<u8>().unwrap_err());
        assert_eq!(of(&e), "std::num::ParseIntError");
        let e = wrap("a", "x".parse::<f32>().unwrap_err());
        assert_eq!(of(&e), "std::num::ParseFloatError");
        // Not a known std type: its Debug name, a computed value.
        let e = wrap("a", Wrapper("root", None));
        assert_eq!(of(&e), "Wrapper");
        assert!(matches!(of(&e), Cow::Owned(_)));
        // A string error has no type name.
        let e: Box<dyn Error> = "just a message".into();
        assert_eq!(e.error_type(), OTHER);
        let e = wrap("a", Wrapper("b", Some("string root".into())));
        assert_eq!(of(&e), OTHER);
    }

    #[test]
    fn debug_names_keep_their_path() {
        use std::fmt::Write as _;
        for (debug, name) in [
            ("hyper::Error(IncompleteMessage)", Some("hyper::Error")),
            ("MyError { code: 3 }", Some("MyError")),
            ("a::b::C", Some("a::b::C")),
            ("Error: something", Some("Error")),
            ("a:::b", Some("a")),
            ("::leading", None),
            ("\"quoted\"", None),
        ] {
            let mut id = Identifier::new();
            let _ = write!(id, "{debug}");
            assert_eq!(id.get(), name, "{debug}");
        }
    }

    #[test]
    fn cycles_and_long_chains_stop() {
        #[derive(Debug)]
        struct Cycle;
        impl fmt::Display for Cycle {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("cycle")
            }
        }
        impl Error for Cycle {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&Cycle)
            }
        }
        assert_eq!(of(&Cycle), "Cycle");
    }

    #[test]
    fn debug_that_panics_or_misbehaves_gives_other() {
        struct Bad;
        impl fmt::Debug for Bad {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("debug panicked")
            }
        }
        impl fmt::Display for Bad {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bad")
            }
        }
        impl Error for Bad {}
        assert_eq!(of(&Bad), OTHER);

        struct Long;
        impl fmt::Debug for Long {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&"A".repeat(1000))
            }
        }
        impl fmt::Display for Long {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("long")
            }
        }
        impl Error for Long {}
        assert_eq!(of(&Long), OTHER);
    }

    #[test]
    fn type_names_without_generic_arguments() {
        struct Generic<T>(T);
        let name = error_type_name(type_name::<Generic<Vec<u8>>>());
        assert!(name.ends_with("_arguments::Generic"), "{name}");
        let name = error_type_name(type_name::<std::sync::Arc<Generic<u8>>>());
        assert!(name.ends_with("_arguments::Generic"), "{name}");
        assert_eq!(
            error_type_name(type_name::<Box<std::num::ParseIntError>>()),
            "std::num::ParseIntError"
        );
        assert_eq!(error_type_name(type_name::<&str>()), "&str");
        assert_eq!(error_type_name("my::Error"), "my::Error");
    }

    #[test]
    fn every_erased_error_walks_its_chain() {
        use std::sync::Arc;
        let io = || wrap("a", io::Error::from(io::ErrorKind::BrokenPipe));
        let expected = "std::io::ErrorKind::BrokenPipe";
        let e: Box<dyn Error + Sync> = Box::new(io());
        assert_eq!(e.error_type(), expected);
        let e: Arc<dyn Error> = Arc::new(io());
        assert_eq!(e.error_type(), expected);
        let e: Arc<dyn Error + Send> = Arc::new(io());
        assert_eq!(e.error_type(), expected);
        let e: Arc<dyn Error + Sync> = Arc::new(io());
        assert_eq!(e.error_type(), expected);
        let e: Arc<dyn Error + Send + Sync> = Arc::new(io());
        assert_eq!(e.error_type(), expected);
    }

    #[test]
    fn private_std_paths_become_public() {
        assert_eq!(
            public_type_name(type_name::<std::num::ParseIntError>()),
            "std::num::ParseIntError"
        );
        assert_eq!(
            public_type_name(type_name::<std::fmt::Error>()),
            "std::fmt::Error"
        );
        assert_eq!(public_type_name("my::Error"), "my::Error");
        for name in STD_ERROR_NAMES {
            assert!(name.starts_with("std::"));
        }
    }

    #[test]
    fn transparent_fields_without_error_type() {
        // ErrorType first.
        let io = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(
            (&&&TransparentField(&io)).ie_field_error_type(),
            "std::io::ErrorKind::NotFound"
        );
        // An error without it, its own root cause: its type's public path,
        // not its Debug identifier.
        let parse = "x".parse::<u8>().unwrap_err();
        assert_eq!(
            (&&&TransparentField(&parse)).ie_field_error_type(),
            "std::num::ParseIntError"
        );
        let root = Wrapper("alone", None);
        assert_eq!(
            (&&&TransparentField(&root)).ie_field_error_type(),
            type_name::<Wrapper>()
        );
        // Its chain: a known error along it, else the root cause's type.
        let over_io = wrap("a", io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(
            (&&&TransparentField(&over_io)).ie_field_error_type(),
            "std::io::ErrorKind::TimedOut"
        );
        let over_derived = wrap("a", Registered::Timeout);
        assert_eq!(
            (&&&TransparentField(&over_derived)).ie_field_error_type(),
            "registered_timeout"
        );
        let over_parse = wrap("a", "x".parse::<f64>().unwrap_err());
        assert_eq!(
            (&&&TransparentField(&over_parse)).ie_field_error_type(),
            "std::num::ParseFloatError"
        );
        // A string root cause has no type: the field's.
        let over_string = Wrapper("a", Some("just text".into()));
        assert_eq!(
            (&&&TransparentField(&over_string)).ie_field_error_type(),
            type_name::<Wrapper>()
        );
        // Not an error: its type name.
        assert_eq!((&&&TransparentField(&7u8)).ie_field_error_type(), "u8");
    }

    #[test]
    fn a_type_that_is_not_an_error_is_never_downcast() {
        assert!((&Downcast::<NotAnError>::NEW)
            .ie_downcast(&Registered::Timeout)
            .is_none());
        assert_eq!(
            (&Downcast::<Registered>::NEW).ie_downcast(&Registered::Timeout),
            Some(Cow::Borrowed("registered_timeout"))
        );
    }
}
