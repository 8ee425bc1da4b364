//! What a call is started with, and what it does with its returned value
//! before its span ends: the two values through which the attribute's
//! per-call arguments reach the runtime.
//!
//! * [`Entry`]: evaluated when the function is called: the span attributes
//!   (`attributes(..)`, evaluated only for a span that records), the
//!   `metric_attributes(..)` (on the span and the duration point, for every
//!   call), the span's `parent` and its `links`. Each part the attribute was
//!   not given is a zero-sized type.
//! * [`After`]: handed to the expansion's after-call closure with the
//!   returned value: `result_attributes = f` and the status attribute of the
//!   protocol flags (`kind = server, http`) go through it. Without either,
//!   the closure is empty and zero-sized.

use opentelemetry::trace::{Link, SpanRef, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::frame::Frame;
use crate::site::CallSite;

/// The values a call starts with: its `attributes(..)`, `metric_attributes(..)`,
/// `parent` and `links`, each a zero-sized type when not given.
#[derive(Debug)]
pub struct Entry<A, M = NoMetricAttributes, P = CurrentContext, L = NoLinks> {
    attributes: A,
    metric_attributes: M,
    parent: P,
    links: L,
}

/// `attributes(..)` evaluated when the span turns out to record.
#[derive(Debug)]
pub struct Lazy<F>(F);

/// `attributes(..)` evaluated already (a future's, at the call that built it).
#[derive(Debug)]
pub struct Eager<I>(I);

/// Span attributes: evaluated now ([`Eager`]) or when needed ([`Lazy`]).
pub trait SpanAttributes {
    /// The attributes.
    type Iter: IntoIterator<Item = KeyValue>;
    /// Evaluates them.
    fn evaluate(self) -> Self::Iter;
}

impl<F, I> SpanAttributes for Lazy<F>
where
    F: FnOnce() -> I,
    I: IntoIterator<Item = KeyValue>,
{
    type Iter = I;
    #[inline(always)]
    fn evaluate(self) -> I {
        (self.0)()
    }
}

impl<I: IntoIterator<Item = KeyValue>> SpanAttributes for Eager<I> {
    type Iter = I;
    #[inline(always)]
    fn evaluate(self) -> I {
        self.0
    }
}

/// No `metric_attributes(..)`.
#[derive(Debug, Clone, Copy)]
pub struct NoMetricAttributes;

/// `metric_attributes(..)`: attributes on the span and on the duration point.
pub trait MetricAttributes {
    /// The attributes (a constant empty slice when there are none, so that
    /// their handling compiles away).
    fn as_slice(&self) -> &[KeyValue];
    /// The attributes, for the duration point; `None` when there are none.
    fn into_boxed(self) -> Option<Box<[KeyValue]>>;
}

impl MetricAttributes for NoMetricAttributes {
    #[inline(always)]
    fn as_slice(&self) -> &[KeyValue] {
        &[]
    }

    #[inline(always)]
    fn into_boxed(self) -> Option<Box<[KeyValue]>> {
        None
    }
}

impl<const N: usize> MetricAttributes for [KeyValue; N] {
    #[inline(always)]
    fn as_slice(&self) -> &[KeyValue] {
        self
    }

    #[inline]
    fn into_boxed(self) -> Option<Box<[KeyValue]>> {
        (N > 0).then(|| Box::new(self) as Box<[KeyValue]>)
    }
}

/// The span's parent is the current context (no `parent = ..`).
#[derive(Debug, Clone, Copy)]
pub struct CurrentContext;

/// The span's parent given with `parent = ..`.
#[derive(Debug, Clone)]
pub struct ExplicitParent(Context);

/// Where the span's parent comes from.
pub trait Parent {
    /// Calls `f` with the parent context.
    fn with<R>(&self, f: impl FnOnce(&Context) -> R) -> R;
}

impl Parent for CurrentContext {
    #[inline(always)]
    fn with<R>(&self, f: impl FnOnce(&Context) -> R) -> R {
        Context::map_current(f)
    }
}

impl Parent for ExplicitParent {
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&Context) -> R) -> R {
        f(&self.0)
    }
}

/// A value accepted by `parent = ..`: an [`opentelemetry::Context`], or a
/// reference to one.
#[diagnostic::on_unimplemented(
    message = "`parent = ..` takes an `opentelemetry::Context` or a `&Context`, not `{Self}`",
    label = "instrument-errors: the span's parent context",
    note = "to continue a trace from HTTP headers, use `parent = instrument_errors::http::extract_context(&headers)` (feature `http`)"
)]
pub trait IntoParent {
    /// The parent context.
    fn into_context(self) -> Context;
}

impl IntoParent for Context {
    #[inline]
    fn into_context(self) -> Context {
        self
    }
}

impl IntoParent for &Context {
    #[inline]
    fn into_context(self) -> Context {
        self.clone()
    }
}

/// No `links = ..`.
#[derive(Debug, Clone, Copy)]
pub struct NoLinks;

/// The span's links given with `links = ..`, collected at entry.
#[derive(Debug)]
pub struct SpanLinks(Vec<Link>);

/// The links a span is created with.
pub trait Links {
    /// Gives the span builder the links, if there are any.
    fn set_on(self, builder: &mut opentelemetry::trace::SpanBuilder);
}

impl Links for NoLinks {
    #[inline(always)]
    fn set_on(self, _: &mut opentelemetry::trace::SpanBuilder) {}
}

impl Links for SpanLinks {
    #[inline]
    fn set_on(self, builder: &mut opentelemetry::trace::SpanBuilder) {
        if !self.0.is_empty() {
            builder.links = Some(self.0);
        }
    }
}

impl<F> Entry<Lazy<F>> {
    /// A call whose `attributes(..)` are evaluated only for a span that
    /// records (synchronous calls).
    #[inline(always)]
    pub fn lazy<I>(attributes: F) -> Self
    where
        F: FnOnce() -> I,
        I: IntoIterator<Item = KeyValue>,
    {
        Entry {
            attributes: Lazy(attributes),
            metric_attributes: NoMetricAttributes,
            parent: CurrentContext,
            links: NoLinks,
        }
    }
}

impl<I: IntoIterator<Item = KeyValue>> Entry<Eager<I>> {
    /// A call whose `attributes(..)` were evaluated when it was made (a
    /// future, whose body owns the function's arguments).
    #[inline(always)]
    pub fn eager(attributes: I) -> Self {
        Entry {
            attributes: Eager(attributes),
            metric_attributes: NoMetricAttributes,
            parent: CurrentContext,
            links: NoLinks,
        }
    }
}

impl<A: SpanAttributes, M, P, L> Entry<A, M, P, L> {
    /// With `metric_attributes(..)`.
    #[inline(always)]
    pub fn metric_attributes<const N: usize>(
        self,
        metric_attributes: [KeyValue; N],
    ) -> Entry<A, [KeyValue; N], P, L> {
        Entry {
            attributes: self.attributes,
            metric_attributes,
            parent: self.parent,
            links: self.links,
        }
    }

    /// With `parent = ..`.
    #[inline]
    pub fn parent(self, parent: impl IntoParent) -> Entry<A, M, ExplicitParent, L> {
        Entry {
            attributes: self.attributes,
            metric_attributes: self.metric_attributes,
            parent: ExplicitParent(parent.into_context()),
            links: self.links,
        }
    }

    /// With `links = ..`, collected now.
    #[inline]
    pub fn links(self, links: impl IntoIterator<Item = Link>) -> Entry<A, M, P, SpanLinks> {
        Entry {
            attributes: self.attributes,
            metric_attributes: self.metric_attributes,
            parent: self.parent,
            links: SpanLinks(links.into_iter().collect()),
        }
    }

    /// The same entry with its span attributes evaluated now (a boxed
    /// future's, before its body runs).
    #[inline(always)]
    pub fn into_eager(self) -> Entry<Eager<A::Iter>, M, P, L> {
        Entry {
            attributes: Eager(self.attributes.evaluate()),
            metric_attributes: self.metric_attributes,
            parent: self.parent,
            links: self.links,
        }
    }
}

/// An entry the runtime can start a call with.
pub trait Start {
    /// Starts the call (see [`CallSite::start`]).
    fn start(self, site: &'static CallSite) -> Frame;
}

impl<A, M, P, L> Start for Entry<A, M, P, L>
where
    A: SpanAttributes,
    M: MetricAttributes,
    P: Parent,
    L: Links,
{
    #[inline(always)]
    fn start(self, site: &'static CallSite) -> Frame {
        site.start(self)
    }
}

impl<A, M, P, L> Entry<A, M, P, L>
where
    A: SpanAttributes,
    M: MetricAttributes,
    P: Parent,
    L: Links,
{
    /// Its parts, for [`CallSite::start`].
    #[inline(always)]
    pub(crate) fn into_parts(self) -> (A, M, P, L) {
        (
            self.attributes,
            self.metric_attributes,
            self.parent,
            self.links,
        )
    }
}

/// What the after-call closure of a call can do with the returned value,
/// before the span ends. The expansion writes that closure; without
/// `result_attributes` or a protocol flag it is empty (and zero-sized).
#[derive(Debug)]
pub struct After<'f> {
    frame: &'f Frame,
    /// A protocol status attribute, for the duration point too.
    pub(crate) status: Option<KeyValue>,
}

impl<'f> After<'f> {
    #[inline(always)]
    pub(crate) fn new(frame: &'f Frame) -> Self {
        After {
            frame,
            status: None,
        }
    }

    /// The span, when it records.
    fn recording_span(&self) -> Option<SpanRef<'f>> {
        self.frame
            .cx
            .as_ref()
            .map(TraceContextExt::span)
            .filter(SpanRef::is_recording)
    }

    /// `result_attributes = f`: sets `f(out)` on the span, if it records.
    /// `f` is called only then; if it panics, the panic hook has reported it
    /// once and the span goes without them. (The value comes first, so that
    /// a function taking another type is the mismatch reported.)
    #[inline]
    pub fn result_attributes<R, I, F>(&mut self, out: &R, f: F)
    where
        R: ?Sized,
        I: IntoIterator<Item = KeyValue>,
        F: Fn(&R) -> I,
    {
        if let Some(span) = self.recording_span() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                span.set_attributes(f(out));
            }));
        }
    }

    /// A protocol flag's status attribute (`http.response.status_code`,
    /// `rpc.response.status_code`, `db.response.status_code`): set on the
    /// span, if it records, and on the duration point.
    #[inline]
    pub fn status(&mut self, status: Option<KeyValue>) {
        if let Some(status) = status {
            if let Some(span) = self.recording_span() {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    span.set_attribute(status.clone());
                }));
            }
            self.status = Some(status);
        }
    }
}
