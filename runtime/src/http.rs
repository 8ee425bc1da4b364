//! HTTP outcomes as the semantic conventions classify them (feature `http`,
//! for the `http` 1.x crate that axum, hyper, reqwest and tonic use).
//!
//! The conventions (`docs/http/http-spans.md`):
//!
//! * **Server** (`kind = server`): a `5xx` status is a failure, a `4xx` is
//!   not (the server did its job; the client sent a bad request):
//!   [`server_error`].
//! * **Client** (`kind = client`): a status `>= 400` is a failure:
//!   [`client_error`].
//! * The failure's `error.type` is the status code as a string (`"503"`), and
//!   the span gets no status description: the code says it all.
//! * The span carries the status as `http.response.status_code` (an integer):
//!   [`response_attributes`].
//!
//! ```
//! use http::{Response, StatusCode};
//! use instrument_errors::instrument_errors;
//!
//! // With axum: `-> axum::response::Response`, `-> (StatusCode, String)`, ...
//! #[instrument_errors(
//!     name = "GET /items/{id}",
//!     kind = server,
//!     error_if = instrument_errors::http::server_error,
//!     result_attributes = instrument_errors::http::response_attributes,
//! )]
//! async fn get_item(id: u32) -> Response<String> {
//!     let status = match id {
//!         0 => StatusCode::NOT_FOUND,           // not a failure for a server
//!         1 => StatusCode::SERVICE_UNAVAILABLE, // a failure: error.type "503"
//!         _ => StatusCode::OK,
//!     };
//!     let mut response = Response::new(String::new());
//!     *response.status_mut() = status;
//!     response
//! }
//! # let _ = get_item(1);
//! ```
//!
//! A status in an `Ok` value (or in a function that does not return a
//! `Result`) is a failure but not an exception: no exception log record is
//! written for it. An `Err` is classified as any error (its [`ErrorType`],
//! message and `source()` chain), and has no `http.response.status_code`.
//!
//! All `error.type` values are `&'static str`: no allocation, and they do not
//! count against [`ERROR_TYPE_LIMIT`](crate::ERROR_TYPE_LIMIT).
//!
//! [`ErrorType`]: crate::ErrorType

use std::fmt::Display;

use ::http::{response, HeaderMap, Response, StatusCode};
use opentelemetry::{global, Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};

use crate::classify::{Message, Probe};
use opentelemetry_semantic_conventions::attribute::HTTP_RESPONSE_STATUS_CODE;

use crate::cardinality::OTHER;

/// A returned value that carries an HTTP response status.
///
/// Implemented for [`StatusCode`], [`Response<B>`](Response) (axum's
/// `Response` included), [`response::Parts`], `(StatusCode, T)` (axum's
/// `(StatusCode, body)` replies), references and boxes of those, and
/// `Result<T, E>` where `T` is one of those (an `Err` has no status), and,
/// with the feature `reqwest`, `reqwest::Response` and `reqwest::Error`.
/// Implement it for your own types (an `AppError` that implements axum's
/// `IntoResponse` knows its status): the `http` flag
/// (`#[instrument_errors(kind = server, http)]`) then reads it from the `Ok`
/// or the `Err` value, and [`server_error`], [`client_error`] and
/// [`response_attributes`] accept it. An axum handler returning another
/// `IntoResponse` type (`Json<T>`, `String`, `impl IntoResponse`) can return
/// `Response` (`.into_response()`) instead.
#[diagnostic::on_unimplemented(
    message = "`{Self}` carries no HTTP response status",
    label = "instrument-errors: `instrument_errors::http` functions need a `StatusCode`, an `http::Response`, a `(StatusCode, T)` or a `Result` of those",
    note = "use the `http` flag instead (`#[instrument_errors(kind = server, http)]`), which reads \
            the status wherever the returned value carries one, or return a type that carries a \
            status (`Response`, `StatusCode`, `(StatusCode, T)`)"
)]
pub trait ResponseStatus {
    /// The response's status code; `None` when there is no response.
    fn response_status(&self) -> Option<StatusCode>;
}

impl ResponseStatus for StatusCode {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        Some(*self)
    }
}

impl<B> ResponseStatus for Response<B> {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        Some(self.status())
    }
}

impl ResponseStatus for response::Parts {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        Some(self.status)
    }
}

impl<T> ResponseStatus for (StatusCode, T) {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        Some(self.0)
    }
}

impl<T: ResponseStatus, E> ResponseStatus for Result<T, E> {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        self.as_ref().ok().and_then(ResponseStatus::response_status)
    }
}

impl<T: ResponseStatus + ?Sized> ResponseStatus for &T {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        (**self).response_status()
    }
}

impl<T: ResponseStatus + ?Sized> ResponseStatus for Box<T> {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        (**self).response_status()
    }
}

impl crate::protocol::Protocol for crate::protocol::Http {
    type Status = StatusCode;

    #[inline]
    fn is_failure(side: crate::protocol::Side, status: &StatusCode) -> bool {
        match side {
            crate::protocol::Side::Server => status.is_server_error(),
            crate::protocol::Side::Client => status.as_u16() >= 400,
        }
    }

    #[inline]
    fn error_type(status: &StatusCode) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(error_type(*status))
    }

    #[inline]
    fn attribute(status: StatusCode) -> KeyValue {
        KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status.as_u16()))
    }
}

impl<T: ResponseStatus + ?Sized> crate::protocol::ViaStatus
    for crate::protocol::StatusOf<'_, crate::protocol::Http, T>
{
    type Status = StatusCode;

    #[inline]
    fn ie_status(&self) -> Option<StatusCode> {
        self.value().response_status()
    }
}

impl<'a, T: Display> Probe<'a, (StatusCode, T)> {
    /// The description of an `Err((StatusCode, message))` (axum's error
    /// replies): the message's `Display`. An inherent method, so the
    /// expansion's `(&Probe(e)).ie_message()` picks it; a tuple has no
    /// `Display` of its own.
    #[inline]
    pub fn ie_message(&self) -> Option<Message<'a>> {
        let message: &'a T = &self.0 .1;
        Some(Message::Display(message))
    }
}

/// The context a server continues: the trace context the client sent in
/// `headers` (`traceparent`, ...), read through the global text-map
/// propagator, for `parent = instrument_errors::http::extract_context(&headers)`.
///
/// The propagator must be installed first
/// (`opentelemetry::global::set_text_map_propagator(
/// opentelemetry_sdk::propagation::TraceContextPropagator::new())`): the
/// default one reads nothing. Without a trace context in the headers, the
/// current context is returned.
pub fn extract_context(headers: &HeaderMap) -> Context {
    global::get_text_map_propagator(|propagator| propagator.extract(&HeaderExtractor(headers)))
}

/// Writes the current context (in a client call instrumented with
/// `kind = client`, the client span's) into `headers` through the global
/// text-map propagator, so that the server it calls joins the same trace.
///
/// As for [`extract_context`], the propagator must be installed first.
pub fn inject_context(headers: &mut HeaderMap) {
    let cx = Context::current();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&cx, &mut HeaderInjector(headers));
    });
}

/// `error_if` for HTTP **servers**: a `5xx` status is a failure with the code
/// as `error.type` (`"503"`); any other status (`4xx` included) is not.
///
/// Use it as `error_if = instrument_errors::http::server_error` on a function
/// returning any [`ResponseStatus`] type, or a `Result` of one (then it sees
/// the `Ok` value).
#[inline]
pub fn server_error<T: ResponseStatus + ?Sized>(response: &T) -> Option<&'static str> {
    response
        .response_status()
        .filter(StatusCode::is_server_error)
        .map(error_type)
}

/// `error_if` for HTTP **clients**: a status `>= 400` is a failure with the
/// code as `error.type` (`"404"`, `"503"`).
///
/// Use it as `error_if = instrument_errors::http::client_error` on a function
/// returning any [`ResponseStatus`] type, or a `Result` of one (then it sees
/// the `Ok` value).
#[inline]
pub fn client_error<T: ResponseStatus + ?Sized>(response: &T) -> Option<&'static str> {
    response
        .response_status()
        .filter(|s| s.as_u16() >= 400)
        .map(error_type)
}

/// `result_attributes` for HTTP: `http.response.status_code` (an integer)
/// when the returned value has a status; nothing for an `Err`.
///
/// Use it as `result_attributes = instrument_errors::http::response_attributes`.
#[inline]
pub fn response_attributes<R: ResponseStatus + ?Sized>(returned: &R) -> Option<KeyValue> {
    returned
        .response_status()
        .map(|status| KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status.as_u16())))
}

#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
impl ResponseStatus for reqwest::Response {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        Some(self.status())
    }
}

/// The status of a `reqwest::Error` made from a response
/// (`error_for_status`); `None` for the others (a refused connection, a
/// timeout).
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
impl ResponseStatus for reqwest::Error {
    #[inline]
    fn response_status(&self) -> Option<StatusCode> {
        self.status()
    }
}

/// `error.type` of a `reqwest::Error`: the status code (`"503"`) when it was
/// made from a response (`error_for_status`), `"timeout"` when the request
/// timed out, else the value of its cause, by the rule for type-erased errors
/// (a refused connection: `std::io::ErrorKind::ConnectionRefused`), and
/// `reqwest::Error` only for an error without a cause.
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
impl crate::ErrorType for reqwest::Error {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        if let Some(status) = self.status() {
            return Cow::Borrowed(error_type(status));
        }
        if self.is_timeout() {
            return Cow::Borrowed("timeout");
        }
        std::error::Error::source(self)
            .and_then(crate::error_type::erased_error_type)
            .unwrap_or(Cow::Borrowed("reqwest::Error"))
    }
}

/// A status code as an `error.type` value: its three digits (`"503"`), as a
/// `&'static str`, without allocating.
///
/// Useful in an [`ErrorType`](crate::ErrorType) implementation or an
/// `error_type = ...` function for errors that carry a status.
#[inline]
pub fn error_type(status: StatusCode) -> &'static str {
    // `StatusCode` holds 100..=999.
    let at = usize::from(status.as_u16()).wrapping_sub(100) * 3;
    CODES
        .get(at..at + 3)
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .unwrap_or(OTHER)
}

/// `"100200...999"`: every status code's three digits, in order.
static CODES: [u8; 2700] = codes();

const fn codes() -> [u8; 2700] {
    let mut table = [0u8; 2700];
    let mut i = 0;
    while i < 900 {
        let n = i + 100;
        table[i * 3] = b'0' + (n / 100) as u8;
        table[i * 3 + 1] = b'0' + (n / 10 % 10) as u8;
        table[i * 3 + 2] = b'0' + (n % 10) as u8;
        i += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_its_digits() {
        for n in 100..=999u16 {
            let status = StatusCode::from_u16(n).expect("valid");
            assert_eq!(error_type(status), n.to_string());
        }
    }

    #[test]
    fn server_and_client_rules() {
        for n in 100..=999u16 {
            let status = StatusCode::from_u16(n).expect("valid");
            let digits = n.to_string();
            let server = server_error(&status);
            let client = client_error(&status);
            assert_eq!(server, (500..600).contains(&n).then_some(digits.as_str()));
            assert_eq!(client, (n >= 400).then_some(digits.as_str()));
        }
    }

    #[test]
    fn shapes() {
        let response = Response::builder().status(503).body(()).expect("response");
        assert_eq!(server_error(&response), Some("503"));
        assert_eq!(server_error(&(StatusCode::NOT_FOUND, "no")), None);
        assert_eq!(client_error(&(StatusCode::NOT_FOUND, "no")), Some("404"));
        let (parts, ()) = response.into_parts();
        assert_eq!(client_error(&parts), Some("503"));
        let ok: Result<StatusCode, ()> = Ok(StatusCode::BAD_GATEWAY);
        assert_eq!(server_error(&ok), Some("502"));
        let err: Result<StatusCode, ()> = Err(());
        assert_eq!(server_error(&err), None);
        assert!(response_attributes(&err).is_none());
        let attribute = response_attributes(&Box::new(StatusCode::OK)).expect("status");
        assert_eq!(attribute.key.as_str(), "http.response.status_code");
        assert_eq!(attribute.value, opentelemetry::Value::I64(200));
    }
}
