//! The protocol flags of the attribute (`kind = server, http`,
//! `kind = client, grpc`): the returned value, `Ok` or `Err`, is classified
//! by the status it carries, as the protocol's conventions ask.
//!
//! The expansion reads the status with the autoref probes [`StatusOf`]
//! ([`ViaStatus`] when the type carries one, else [`ViaNoStatus`]) and hands
//! it to [`flag_ok`], [`flag_err`], [`flag_error_type`] and
//! [`status_attribute`]:
//!
//! * a status in an `Ok` value (or in the whole value of a function that
//!   does not return a `Result`) that is a failure on this side is a failure
//!   without an exception: `error.type` is the status's value, no
//!   description, no exception record;
//! * an `Err` whose status is not a failure on this side is handled (as with
//!   `ok_if`): status Unset, no `error.type`, a `DEBUG` record;
//! * a failed `Err` keeps its own `ErrorType` value when it has one, else
//!   the status's value; an `Err` without a status is a failure as without
//!   the flag;
//! * the status is set as the protocol's status attribute on the span and on
//!   the duration point.

use std::borrow::Cow;
use std::marker::PhantomData;

use opentelemetry::KeyValue;

use crate::classify::{Failure, Verdict};

/// The side of the call a protocol flag classifies (`kind = server` or
/// `kind = client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `kind = server`.
    Server,
    /// `kind = client`.
    Client,
}

/// The `http` flag (feature `http`).
#[derive(Debug, Clone, Copy)]
pub enum Http {}

/// The `grpc` flag (feature `tonic`).
#[derive(Debug, Clone, Copy)]
pub enum Grpc {}

/// The `db` flag (feature `sqlx`).
#[derive(Debug, Clone, Copy)]
pub enum Db {}

/// A protocol whose statuses a flag classifies.
#[diagnostic::on_unimplemented(
    message = "this protocol flag needs a feature of `instrument-errors`",
    label = "the `http` flag needs the feature `http`, the `grpc` flag the feature `tonic`, the `db` flag the feature `sqlx`",
    note = "enable it in Cargo.toml: `instrument-errors = {{ version = \"0.1\", features = [\"http\"] }}`"
)]
pub trait Protocol {
    /// A status of this protocol.
    type Status;
    /// Whether `status` is a failure on `side`.
    fn is_failure(side: Side, status: &Self::Status) -> bool;
    /// The status's `error.type` value (`"503"`, `"UNAVAILABLE"`, `"2067"`).
    fn error_type(status: &Self::Status) -> Cow<'static, str>;
    /// The status attribute (`http.response.status_code`,
    /// `rpc.response.status_code`, `db.response.status_code`).
    fn attribute(status: Self::Status) -> KeyValue;
}

/// A returned value (its `Ok` or `Err` part) whose status protocol `P` reads:
/// call as `(&StatusOf::<P, _>::new(v)).ie_status()`.
pub struct StatusOf<'a, P, T: ?Sized>(&'a T, PhantomData<P>);

impl<'a, P, T: ?Sized> StatusOf<'a, P, T> {
    /// Wraps `value`.
    #[inline(always)]
    pub fn new(value: &'a T) -> Self {
        StatusOf(value, PhantomData)
    }

    /// The wrapped value.
    #[inline(always)]
    pub fn value(&self) -> &'a T {
        self.0
    }
}

impl<P, T: ?Sized> std::fmt::Debug for StatusOf<'_, P, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusOf")
    }
}

/// The status of a value that carries one (implemented per protocol).
pub trait ViaStatus {
    /// The status type.
    type Status;
    /// The value's status, if it has one now.
    fn ie_status(&self) -> Option<Self::Status>;
}

/// The fallback: a value that carries no status of protocol `P`.
pub trait ViaNoStatus<P: Protocol> {
    /// Always `None`.
    fn ie_status(&self) -> Option<P::Status>;
}

impl<P: Protocol, T: ?Sized> ViaNoStatus<P> for &StatusOf<'_, P, T> {
    #[inline(always)]
    fn ie_status(&self) -> Option<P::Status> {
        None
    }
}

/// The verdict on an `Ok` value (or the whole value) with status `status`.
#[inline]
pub fn flag_ok<P: Protocol>(side: Side, status: Option<P::Status>) -> Verdict<'static> {
    match status {
        Some(status) if P::is_failure(side, &status) => Verdict::Rejected(P::error_type(&status)),
        _ => Verdict::Success,
    }
}

/// The verdict on an `Err` with status `status`: handled when the status is
/// not a failure on this side, else a failure.
#[inline]
pub fn flag_err<'a, P: Protocol>(
    side: Side,
    status: Option<&P::Status>,
    failure: Failure<'a>,
) -> Verdict<'a> {
    match status {
        Some(status) if !P::is_failure(side, status) => Verdict::Handled(failure),
        _ => Verdict::Failure(failure),
    }
}

/// The `error.type` of an `Err` under a flag: its own `ErrorType` value
/// (`known`) when it has one, else its status's value, else what it would be
/// without the flag (`fallback`).
#[inline]
pub fn flag_error_type<P: Protocol>(
    status: Option<&P::Status>,
    known: Option<Cow<'static, str>>,
    fallback: impl FnOnce() -> Cow<'static, str>,
) -> Cow<'static, str> {
    match (known, status) {
        (Some(known), _) => known,
        (None, Some(status)) => P::error_type(status),
        (None, None) => fallback(),
    }
}

/// The status attribute, when there is a status.
#[inline]
pub fn status_attribute<P: Protocol>(status: Option<P::Status>) -> Option<KeyValue> {
    status.map(P::attribute)
}
