//! gRPC outcomes as the semantic conventions classify them (feature `tonic`,
//! for [`tonic`] 0.14).
//!
//! The conventions (`docs/rpc/grpc.md`):
//!
//! * **Client** (`kind = client`): every code but `OK` is a failure. A tonic
//!   client call returns `Err(Status)` for exactly those, so a client method
//!   needs no argument.
//! * **Server** (`kind = server`): only `UNKNOWN`, `DEADLINE_EXCEEDED`,
//!   `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE` and `DATA_LOSS` are failures;
//!   the other codes report the client's mistakes or expected conditions:
//!   `ok_if = instrument_errors::grpc::server_handled`.
//! * The failure's `error.type` is the code's name (`"DEADLINE_EXCEEDED"`):
//!   [`ErrorType`] is implemented for [`tonic::Status`]. The span's status
//!   description (and `exception.message`) is the status **message** alone,
//!   not `Status`'s `Display` (which repeats the code).
//! * The span carries the code's name as `rpc.response.status_code` (`"OK"`
//!   on success): [`response_attributes`].
//!
//! ```
//! use instrument_errors::instrument_errors;
//! use tonic::{Request, Response, Status};
//!
//! struct Greeter;
//!
//! impl Greeter {
//!     #[instrument_errors(
//!         name = "helloworld.Greeter/SayHello",
//!         kind = server,
//!         ok_if = instrument_errors::grpc::server_handled,
//!         result_attributes = instrument_errors::grpc::response_attributes,
//!     )]
//!     async fn say_hello(&self, request: Request<String>) -> Result<Response<String>, Status> {
//!         let name = request.into_inner();
//!         if name.is_empty() {
//!             // Handled: status Unset, rpc.response.status_code "INVALID_ARGUMENT".
//!             return Err(Status::invalid_argument("name is empty"));
//!         }
//!         Ok(Response::new(format!("Hello {name}!")))
//!     }
//! }
//! # let _ = Greeter.say_hello(Request::new(String::new()));
//! ```

use std::borrow::Cow;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::RPC_RESPONSE_STATUS_CODE;
use tonic::{Code, Status};

use crate::classify::{Message, Probe};
use crate::ErrorType;

/// The code's name as the conventions spell it: `"OK"`, `"NOT_FOUND"`,
/// `"DEADLINE_EXCEEDED"`, ...
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// `error.type` of a gRPC status: its code's name (`"UNAVAILABLE"`).
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
impl ErrorType for Status {
    #[inline]
    fn error_type(&self) -> Cow<'static, str> {
        Cow::Borrowed(code_name(self.code()))
    }
}

/// A returned value that carries a gRPC status code.
///
/// Implemented for [`tonic::Status`] (its code), [`tonic::Response<T>`]
/// (`OK`), [`tonic::Code`], and references and boxes of those. Implement it
/// for your own error types that carry a code, for the `grpc` flag
/// (`#[instrument_errors(kind = server, grpc)]`).
pub trait ResponseCode {
    /// The status code; `None` when there is none.
    fn response_code(&self) -> Option<Code>;
}

impl ResponseCode for Status {
    #[inline]
    fn response_code(&self) -> Option<Code> {
        Some(self.code())
    }
}

impl<T> ResponseCode for tonic::Response<T> {
    #[inline]
    fn response_code(&self) -> Option<Code> {
        Some(Code::Ok)
    }
}

impl ResponseCode for Code {
    #[inline]
    fn response_code(&self) -> Option<Code> {
        Some(*self)
    }
}

impl<T: ResponseCode + ?Sized> ResponseCode for &T {
    #[inline]
    fn response_code(&self) -> Option<Code> {
        (**self).response_code()
    }
}

impl<T: ResponseCode + ?Sized> ResponseCode for Box<T> {
    #[inline]
    fn response_code(&self) -> Option<Code> {
        (**self).response_code()
    }
}

/// Whether `code` is a failure for a gRPC server: `UNKNOWN`,
/// `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE` and
/// `DATA_LOSS`.
#[inline]
pub fn is_server_failure(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

impl crate::protocol::Protocol for crate::protocol::Grpc {
    type Status = Code;

    #[inline]
    fn is_failure(side: crate::protocol::Side, code: &Code) -> bool {
        match side {
            crate::protocol::Side::Server => is_server_failure(*code),
            crate::protocol::Side::Client => *code != Code::Ok,
        }
    }

    #[inline]
    fn error_type(code: &Code) -> Cow<'static, str> {
        Cow::Borrowed(code_name(*code))
    }

    #[inline]
    fn attribute(code: Code) -> KeyValue {
        KeyValue::new(RPC_RESPONSE_STATUS_CODE, code_name(code))
    }
}

impl<T: ResponseCode + ?Sized> crate::protocol::ViaStatus
    for crate::protocol::StatusOf<'_, crate::protocol::Grpc, T>
{
    type Status = Code;

    #[inline]
    fn ie_status(&self) -> Option<Code> {
        self.value().response_code()
    }
}

/// `ok_if` for gRPC **servers**: `true` (handled, not a failure) for every
/// code except `UNKNOWN`, `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`,
/// `UNAVAILABLE` and `DATA_LOSS`.
///
/// Use it as `ok_if = instrument_errors::grpc::server_handled` on a method
/// returning `Result<_, tonic::Status>`.
#[inline]
pub fn server_handled(status: &Status) -> bool {
    !is_server_failure(status.code())
}

/// `result_attributes` for gRPC: `rpc.response.status_code`, the code's name:
/// `"OK"` for an `Ok` value, the status's code for an `Err`.
///
/// Use it as `result_attributes = instrument_errors::grpc::response_attributes`
/// on a method returning `Result<tonic::Response<T>, tonic::Status>` (any
/// `Ok` type is accepted).
#[inline]
pub fn response_attributes<T>(returned: &Result<T, Status>) -> [KeyValue; 1] {
    let code = match returned {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    };
    [KeyValue::new(RPC_RESPONSE_STATUS_CODE, code_name(code))]
}

impl<'a> Probe<'a, Status> {
    /// The description of a failed gRPC call: the status message alone (none
    /// when it is empty). An inherent method, so the expansion's
    /// `(&Probe(e)).ie_message()` picks it over `Status`'s `Display`, which
    /// repeats the code (`code: 'Internal error', message: "..."`), already
    /// in `error.type`.
    #[inline]
    pub fn ie_message(&self) -> Option<Message<'a>> {
        let status: &'a Status = self.0;
        (!status.message().is_empty()).then(|| Message::Text(status.message()))
    }
}

#[cfg(test)]
// The borrow selects the probe under test, as in the expansion.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    const ALL: [Code; 17] = [
        Code::Ok,
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];

    #[test]
    fn names_follow_the_numbers() {
        for (n, code) in ALL.iter().enumerate() {
            assert_eq!(Code::from(n as i32), *code);
            let name = code_name(*code);
            assert!(name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
            // `Debug` is the CamelCase name: `DeadlineExceeded`.
            assert_eq!(name.replace('_', ""), format!("{code:?}").to_uppercase());
        }
    }

    #[test]
    fn message_is_the_description() {
        // In scope as in the expansion: the inherent method still wins.
        #[allow(unused_imports)]
        use crate::classify::ViaDisplay as _;
        let status = Status::internal("disk on fire");
        let message = (&Probe(&status)).ie_message().map(|m| m.to_string());
        assert_eq!(message.as_deref(), Some("disk on fire"));
        assert!(status.to_string().contains("Internal error"));
        assert!((&Probe(&Status::internal(""))).ie_message().is_none());
        assert_eq!(Status::data_loss("x").error_type(), "DATA_LOSS");
    }
}
