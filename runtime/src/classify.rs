//! Turning a function's outcome into a [`Verdict`].
//!
//! The expansion of `#[instrument_errors]` classifies the returned value at the
//! call site, where its type is concrete, with the autoref-based specialization
//! technique: method calls on the small wrappers below pick the most specific
//! implementation that applies (`Result` or not, `ErrorType` or not, `Display`
//! or not, `std::error::Error` or not) without any unstable feature.

use std::borrow::Cow;
use std::error::Error;
use std::fmt::Display;

use crate::ErrorType;

/// The outcome of one call, as the runtime records it.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// The operation completed: span status stays Unset, no `error.type`.
    Success,
    /// The operation failed with an error (or a panic): an exception.
    Failure(Failure<'a>),
    /// The operation returned an error that `ok_if` accepts: handled, not a
    /// failure (status Unset, no `error.type`), logged at `DEBUG`.
    Handled(Failure<'a>),
    /// The operation returned a value that `error_if` rejects: it failed
    /// with this `error.type`, but raised no exception, so no exception log
    /// record is emitted for it.
    Rejected(Cow<'static, str>),
}

/// What the runtime needs to know about a failed operation.
pub struct Failure<'a> {
    /// The `error.type` value, before the cardinality limit is applied.
    pub error_type: Cow<'static, str>,
    /// The error's message, formatted only when something will record it.
    pub message: Option<Message<'a>>,
    /// The error itself when it implements `std::error::Error`, or the
    /// outermost error of a type-erased one (`Box<dyn Error>`, `anyhow`,
    /// `eyre`): its `source()` chain becomes `exception.stacktrace`.
    pub error: Option<&'a dyn Error>,
}

/// The message of a failed operation, borrowed from its error: the error's
/// `Display`, or a text the error holds (a gRPC status's message alone,
/// without the code its `Display` repeats).
#[derive(Clone, Copy)]
pub enum Message<'a> {
    /// The error's `Display`.
    Display(&'a dyn Display),
    /// A text borrowed from the error (or the panic's message).
    Text(&'a str),
}

impl Display for Message<'_> {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Display(d) => d.fmt(f),
            Message::Text(t) => f.write_str(t),
        }
    }
}

impl std::fmt::Debug for Failure<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Failure")
            .field("error_type", &self.error_type)
            .field("has_message", &self.message.is_some())
            .field("has_source", &self.error.is_some())
            .finish()
    }
}

impl<'a> Verdict<'a> {
    /// A failure whose only information is its `error.type` (used by
    /// `error_if`): [`Verdict::Rejected`].
    pub fn failure(error_type: impl Into<Cow<'static, str>>) -> Self {
        Verdict::Rejected(error_type.into())
    }

    /// [`Verdict::Handled`] instead of [`Verdict::Failure`] when `handled`
    /// (what `ok_if` said); anything else unchanged.
    #[inline]
    pub fn handled_if(self, handled: bool) -> Self {
        match self {
            Verdict::Failure(failure) if handled => Verdict::Handled(failure),
            other => other,
        }
    }

    /// `true` for [`Verdict::Failure`] and [`Verdict::Rejected`].
    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::Failure(_) | Verdict::Rejected(_))
    }
}

/// The error type of a function that does not return a `Result`.
///
/// It shows up in compile errors when `ok_if` or `error_type` is given to such
/// a function: those arguments only apply to `Result`-returning functions.
#[derive(Debug, Clone, Copy)]
pub enum ReturnTypeIsNotAResult {}

/// A returned value split into its success and error parts.
#[derive(Debug)]
pub enum Split<'a, T: ?Sized, E: ?Sized> {
    /// `Ok(t)`, or the whole value for functions that do not return a `Result`.
    Ok(&'a T),
    /// `Err(e)`.
    Err(&'a E),
}

/// Wraps a returned value so that method resolution can tell `Result` apart
/// from any other type, whatever alias spells it.
#[derive(Debug)]
pub struct Outcome<'a, R: ?Sized>(pub &'a R);

impl<'a, T, E> Outcome<'a, Result<T, E>> {
    /// Inherent method: wins over [`NotAResult::ie_split`] for any `Result`.
    #[inline]
    pub fn ie_split(&self) -> Split<'a, T, E> {
        match self.0 {
            Ok(t) => Split::Ok(t),
            Err(e) => Split::Err(e),
        }
    }
}

/// Fallback used when the returned value is not a `Result`.
pub trait NotAResult<'a, R: ?Sized> {
    /// The whole value counts as the success part.
    fn ie_split(&self) -> Split<'a, R, ReturnTypeIsNotAResult>;
}

impl<'a, R: ?Sized> NotAResult<'a, R> for Outcome<'a, R> {
    #[inline]
    fn ie_split(&self) -> Split<'a, R, ReturnTypeIsNotAResult> {
        Split::Ok(self.0)
    }
}

/// Wraps an error value for the autoref-specialized probes below; call them as
/// `(&Probe(e)).ie_error_type()`.
#[derive(Debug)]
pub struct Probe<'a, E: ?Sized>(pub &'a E);

/// `error.type` from the [`ErrorType`] implementation.
pub trait ViaErrorType {
    /// The error's `error.type`.
    fn ie_error_type(&self) -> Cow<'static, str>;
}
impl<E: ErrorType + ?Sized> ViaErrorType for Probe<'_, E> {
    #[inline]
    fn ie_error_type(&self) -> Cow<'static, str> {
        self.0.error_type()
    }
}

/// `error.type` fallback: the fully qualified type name, without generic
/// arguments.
pub trait ViaTypeName {
    /// The error's `error.type`.
    fn ie_error_type(&self) -> Cow<'static, str>;
}
impl<E: ?Sized> ViaTypeName for &Probe<'_, E> {
    #[inline]
    fn ie_error_type(&self) -> Cow<'static, str> {
        Cow::Borrowed(crate::error_type::error_type_name(
            std::any::type_name::<E>(),
        ))
    }
}

/// `error.type` from the [`ErrorType`] implementation, when there is one
/// (the protocol flags fall back to the status's value, not the type name).
pub trait ViaKnownErrorType {
    /// The error's `error.type`.
    fn ie_known_error_type(&self) -> Option<Cow<'static, str>>;
}
impl<E: ErrorType + ?Sized> ViaKnownErrorType for Probe<'_, E> {
    #[inline]
    fn ie_known_error_type(&self) -> Option<Cow<'static, str>> {
        Some(self.0.error_type())
    }
}

/// No [`ErrorType`] implementation.
pub trait ViaUnknownErrorType {
    /// Always `None`.
    fn ie_known_error_type(&self) -> Option<Cow<'static, str>>;
}
impl<E: ?Sized> ViaUnknownErrorType for &Probe<'_, E> {
    #[inline]
    fn ie_known_error_type(&self) -> Option<Cow<'static, str>> {
        None
    }
}

/// The message of an error that implements `Display`.
pub trait ViaDisplay<'a> {
    /// The error as `Display`.
    fn ie_message(&self) -> Option<Message<'a>>;
}
impl<'a, E: Display> ViaDisplay<'a> for Probe<'a, E> {
    #[inline]
    fn ie_message(&self) -> Option<Message<'a>> {
        Some(Message::Display(self.0))
    }
}

/// No message for an error without `Display`.
pub trait ViaNoDisplay<'a> {
    /// Always `None`.
    fn ie_message(&self) -> Option<Message<'a>>;
}
impl<'a, E: ?Sized> ViaNoDisplay<'a> for &Probe<'a, E> {
    #[inline]
    fn ie_message(&self) -> Option<Message<'a>> {
        None
    }
}

/// The error as `std::error::Error`, for its `source()` chain.
pub trait ViaError<'a> {
    /// The error as `dyn Error`.
    fn ie_error(&self) -> Option<&'a dyn Error>;
}
impl<'a, E: Error> ViaError<'a> for Probe<'a, E> {
    #[inline]
    fn ie_error(&self) -> Option<&'a dyn Error> {
        Some(self.0)
    }
}

/// Type-erased errors are not `std::error::Error` themselves but deref to
/// one: inherent methods, which win over [`ViaError`] and [`ViaNoError`], give
/// their `source()` chain.
macro_rules! erased_errors {
    ($($(#[$cfg:meta])* $ty:ty,)*) => {$(
        $(#[$cfg])*
        impl<'a> Probe<'a, $ty> {
            /// The error as `dyn Error`: the outermost error of the chain.
            #[inline]
            pub fn ie_error(&self) -> Option<&'a dyn Error> {
                let error: &'a (dyn Error + 'static) = &**self.0;
                Some(error)
            }
        }
    )*};
}

erased_errors! {
    Box<dyn Error + 'static>,
    Box<dyn Error + Send + 'static>,
    Box<dyn Error + Send + Sync + 'static>,
    Box<dyn Error + Sync + 'static>,
    std::sync::Arc<dyn Error + 'static>,
    std::sync::Arc<dyn Error + Send + 'static>,
    std::sync::Arc<dyn Error + Sync + 'static>,
    std::sync::Arc<dyn Error + Send + Sync + 'static>,
    #[cfg(feature = "anyhow")]
    anyhow::Error,
    #[cfg(feature = "eyre")]
    eyre::Report,
}

/// No `source()` chain for a type that is not `std::error::Error`.
pub trait ViaNoError<'a> {
    /// Always `None`.
    fn ie_error(&self) -> Option<&'a dyn Error>;
}
impl<'a, E: ?Sized> ViaNoError<'a> for &Probe<'a, E> {
    #[inline]
    fn ie_error(&self) -> Option<&'a dyn Error> {
        None
    }
}

/// Calls an `ok_if` predicate; the bound gives closures their argument type.
#[inline]
pub fn ok_if<E: ?Sized, F: Fn(&E) -> bool>(f: F, error: &E) -> bool {
    f(error)
}

/// Calls an `error_type` function and converts its result. The bound is not
/// higher-ranked, so that the function may return a value borrowed from the
/// error (`Cow<'_, str>`, `&str`); such a value is copied.
#[inline]
pub fn error_type<'e, E: ?Sized, S: ErrorTypeValue<'e>, F: Fn(&'e E) -> S>(
    f: F,
    error: &'e E,
) -> Cow<'static, str> {
    f(error).into_error_type()
}

/// What an `error_type` function may return: `&'static str`, `String`,
/// `Cow<'static, str>`, or a `Cow<'_, str>` borrowed from the error (copied,
/// and so counted as a computed value). A `Cow::Borrowed` cannot tell a
/// `'static` string from one borrowed from the error: both are copied.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an `error.type` value",
    label = "an `error_type` function returns `&'static str`, `String` or `Cow<'_, str>`"
)]
pub trait ErrorTypeValue<'e> {
    /// The value, owned or `'static`.
    fn into_error_type(self) -> Cow<'static, str>;
}

impl ErrorTypeValue<'_> for &'static str {
    #[inline]
    fn into_error_type(self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

impl ErrorTypeValue<'_> for String {
    #[inline]
    fn into_error_type(self) -> Cow<'static, str> {
        Cow::Owned(self)
    }
}

impl<'e, 'b: 'e> ErrorTypeValue<'e> for Cow<'b, str> {
    #[inline]
    fn into_error_type(self) -> Cow<'static, str> {
        Cow::Owned(self.into_owned())
    }
}

/// Calls an `error_if` function: `Some(t)` makes this value a failure with
/// `error.type` = `t`.
#[inline]
pub fn error_if<T: ?Sized, S: Into<Cow<'static, str>>, F: Fn(&T) -> Option<S>>(
    f: F,
    value: &T,
) -> Option<Cow<'static, str>> {
    f(value).map(Into::into)
}

#[cfg(test)]
// The borrows select the specialization under test.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Plain;

    #[derive(Debug)]
    struct Typed;
    impl ErrorType for Typed {
        fn error_type(&self) -> Cow<'static, str> {
            Cow::Borrowed("typed")
        }
    }
    impl Display for Typed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("typed failed")
        }
    }
    impl Error for Typed {}

    type Alias<T> = Result<T, Plain>;

    #[test]
    fn result_and_aliases_split() {
        let r: Alias<u8> = Err(Plain);
        assert!(matches!(Outcome(&r).ie_split(), Split::Err(Plain)));
        let r: std::io::Result<u8> = Ok(3);
        assert!(matches!(Outcome(&r).ie_split(), Split::Ok(3)));
        let v = 5u32;
        assert!(matches!(Outcome(&v).ie_split(), Split::Ok(5)));
    }

    #[test]
    fn probes_pick_the_most_specific() {
        assert_eq!((&Probe(&Typed)).ie_error_type(), "typed");
        assert!((&Probe(&Plain))
            .ie_error_type()
            .ends_with("classify::tests::Plain"));
        assert_eq!(
            (&Probe(&Typed)).ie_message().map(|m| m.to_string()),
            Some("typed failed".into())
        );
        assert!((&Probe(&Plain)).ie_message().is_none());
        assert!((&Probe(&Typed)).ie_error().is_some());
        assert!((&Probe(&Plain)).ie_error().is_none());
    }

    #[test]
    fn probes_of_std_and_erased_errors() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            (&Probe(&io)).ie_error_type(),
            "std::io::ErrorKind::NotFound"
        );
        let parse = "x".parse::<u8>().unwrap_err();
        assert_eq!((&Probe(&parse)).ie_error_type(), "std::num::ParseIntError");
        assert!((&Probe(&parse)).ie_error().is_some());

        let boxed: Box<dyn Error + Send + Sync> = Box::new(parse.clone());
        assert_eq!((&Probe(&boxed)).ie_error_type(), "std::num::ParseIntError");
        assert_eq!(
            (&Probe(&boxed)).ie_error().map(ToString::to_string),
            Some(parse.to_string())
        );
        assert!((&Probe(&boxed)).ie_message().is_some());
        let boxed: Box<dyn Error> = Box::new(Typed);
        assert!((&Probe(&boxed)).ie_error().is_some());
        let boxed: Box<dyn Error + Send> = Box::new(std::fmt::Error);
        assert!((&Probe(&boxed)).ie_error().is_some());
        assert_eq!((&Probe(&boxed)).ie_error_type(), "std::fmt::Error");
        // A boxed concrete error keeps its own `ErrorType`.
        assert_eq!((&Probe(&Box::new(Typed))).ie_error_type(), "typed");
    }

    #[cfg(feature = "anyhow")]
    #[test]
    fn probes_of_anyhow() {
        use anyhow::Context as _;
        let e = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
            .context("opening the config")
            .unwrap_err();
        assert_eq!(
            (&Probe(&e)).ie_error_type(),
            "std::io::ErrorKind::PermissionDenied"
        );
        let error = (&Probe(&e)).ie_error().expect("a dyn Error");
        assert_eq!(error.to_string(), "opening the config");
        assert!(error.source().is_some());
    }

    #[cfg(feature = "eyre")]
    #[test]
    fn probes_of_eyre() {
        let e = eyre::Report::new("x".parse::<u8>().unwrap_err()).wrap_err("parsing the port");
        assert_eq!((&Probe(&e)).ie_error_type(), "std::num::ParseIntError");
        let error = (&Probe(&e)).ie_error().expect("a dyn Error");
        assert_eq!(error.to_string(), "parsing the port");
    }

    #[test]
    fn handled_if_turns_a_failure_into_handled() {
        let failure = || {
            Verdict::Failure(Failure {
                error_type: Cow::Borrowed("exists"),
                message: None,
                error: None,
            })
        };
        assert!(matches!(failure().handled_if(true), Verdict::Handled(_)));
        assert!(matches!(failure().handled_if(false), Verdict::Failure(_)));
        assert!(!failure().handled_if(true).is_failure());
        assert!(matches!(
            Verdict::Success.handled_if(true),
            Verdict::Success
        ));
    }

    #[test]
    fn hooks() {
        assert!(ok_if(|e: &u8| *e == 1, &1));
        assert_eq!(error_type(|_: &u8| "x", &1), "x");
        assert_eq!(error_type(|e: &u8| e.to_string(), &7), "7");
        // A value borrowed from the error.
        struct Coded(String);
        fn code(e: &Coded) -> Cow<'_, str> {
            Cow::Borrowed(&e.0)
        }
        assert_eq!(error_type(code, &Coded("E42".into())), "E42");
        assert_eq!(
            error_type(|e: &Coded| Cow::Borrowed(e.0.as_str()), &Coded("E7".into())),
            "E7"
        );
        assert_eq!(
            error_if(|v: &u8| (*v > 2).then_some("big"), &3).as_deref(),
            Some("big")
        );
        assert_eq!(error_if(|v: &u8| (*v > 2).then_some("big"), &1), None);
    }
}
