//! Call sites: the static description of one instrumented function, and the
//! OpenTelemetry instruments it resolved at its first call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use opentelemetry::metrics::Histogram;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _,
};
use opentelemetry::{global, Context, InstrumentationScope, KeyValue};

use crate::cardinality::ErrorTypes;
use crate::exception::ExceptionRecord;

/// `code.function.name`, the fully qualified name of the instrumented function
/// (from `opentelemetry-semantic-conventions`).
pub const CODE_FUNCTION_NAME: &str =
    opentelemetry_semantic_conventions::attribute::CODE_FUNCTION_NAME;
/// `error.type`, the low-cardinality class of a failure (from
/// `opentelemetry-semantic-conventions`).
pub const ERROR_TYPE: &str = opentelemetry_semantic_conventions::attribute::ERROR_TYPE;
/// The name of the duration histogram when the attribute is given no `metric`.
pub const DEFAULT_METRIC: &str = "function.duration";
/// Bucket boundaries, in seconds, advised by the semantic conventions for
/// operation durations.
pub const DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The span kind of an instrumented operation (`kind = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `kind = internal`, the default.
    Internal,
    /// `kind = client`.
    Client,
    /// `kind = server`.
    Server,
    /// `kind = producer`.
    Producer,
    /// `kind = consumer`.
    Consumer,
}

impl From<Kind> for SpanKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Internal => SpanKind::Internal,
            Kind::Client => SpanKind::Client,
            Kind::Server => SpanKind::Server,
            Kind::Producer => SpanKind::Producer,
            Kind::Consumer => SpanKind::Consumer,
        }
    }
}

/// How an operation emits its exception log records.
///
/// The expansion builds it with [`crate::__exception_sink!`] so that the
/// `tracing` callsites, and with them the event name, belong to the operation.
#[derive(Debug, Clone, Copy)]
pub struct ExceptionSink {
    /// The severity of an `Err` escaping this operation: `log_level`, else
    /// `ERROR` for `server` and `consumer`, `WARN` for the other kinds.
    pub level: tracing::Level,
    /// Emits one record at the given level as this operation's event.
    pub emit: fn(&ExceptionRecord<'_>, tracing::Level),
}

/// Everything the macro knows about an instrumented function.
#[derive(Debug)]
pub struct Info {
    /// Span name (`name = "..."`, default: the function's name).
    pub name: &'static str,
    /// `code.function.name`: `module_path!()::fn_name`.
    pub function: &'static str,
    /// Span kind.
    pub kind: Kind,
    /// Histogram name (`metric = "..."`); `None` means [`DEFAULT_METRIC`] with
    /// a `code.function.name` attribute.
    pub metric: Option<&'static str>,
    /// Instrumentation scope name: the annotated crate's `CARGO_PKG_NAME`.
    pub scope_name: &'static str,
    /// Instrumentation scope version: the annotated crate's `CARGO_PKG_VERSION`.
    pub scope_version: &'static str,
    /// `false` when the error message is sensitive (`description = false`):
    /// no status description and no `exception.message`.
    pub description: bool,
    /// Where exception log records go; `None` with `log = false`.
    pub exception: Option<ExceptionSink>,
    /// `handled_attribute = "..."`: the attribute that a handled error
    /// (`ok_if`) sets, on the span and its record, to its `error.type`.
    pub handled_attribute: Option<&'static str>,
    /// `span = current` (feature `tracing-opentelemetry`): no span of its
    /// own; the outcome is recorded on the current `tracing` span through
    /// tracing-opentelemetry, or on a span of its own when none is current.
    pub current_span: bool,
}

impl Info {
    /// An `Info` for unit tests: no metric name, no exception sink.
    #[cfg(test)]
    pub(crate) const fn for_test(name: &'static str, function: &'static str, kind: Kind) -> Info {
        Info {
            name,
            function,
            kind,
            metric: None,
            scope_name: "t",
            scope_version: "0",
            description: true,
            exception: None,
            handled_attribute: None,
            current_span: false,
        }
    }

    /// The duration histogram's name: `metric = "..."`, else [`DEFAULT_METRIC`].
    #[inline]
    pub fn metric_name(&self) -> &'static str {
        self.metric.unwrap_or(DEFAULT_METRIC)
    }
}

/// The static part of an instrumented function, one per annotated function.
///
/// The instruments are resolved from the OpenTelemetry globals at the first
/// call of the function and kept for the life of the process.
///
/// A call site that found a no-op global there (its first call came before
/// `set_tracer_provider` or `set_meter_provider`, during start-up) resolves
/// again at its next call after any of these, and records from then on:
///
/// * `opentelemetry::global::set_meter_provider` (whatever it installs);
/// * a global `tracing` subscriber being set
///   (`tracing::subscriber::set_global_default`, `tracing_subscriber`'s
///   `init()`), as the README's setup does after installing the providers;
/// * another call site finding a tracer provider at its first call.
///
/// So a process that only calls `set_tracer_provider`, with no meter provider
/// and no `tracing` subscriber, and whose only instrumented function was
/// first called before it, still records nothing for that function: the
/// OpenTelemetry API has no cheap way to see that change. Checking for these
/// changes costs a call site that found no provider three loads a call.
///
/// With no provider and no subscriber (or with `log = false`) a call site
/// records nothing at all and costs about as much as an uninstrumented call.
/// With a global `tracing` subscriber but no provider, it still emits its
/// exception events, so that a console subscriber shows escaped errors even
/// without OpenTelemetry.
#[derive(Debug)]
pub struct CallSite {
    pub(crate) info: Info,
    state: OnceLock<State>,
}

pub(crate) struct State {
    pub(crate) tracer: Option<global::BoxedTracer>,
    pub(crate) histogram: Option<Histogram<f64>>,
    /// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs/dup`: add the deprecated
    /// `exception` span event too.
    pub(crate) span_event: bool,
    /// Neither provider, but a global `tracing` subscriber: exception events
    /// only.
    pub(crate) events_only: bool,
    pub(crate) error_types: ErrorTypes,
    /// `None` once both a tracer and a meter were found; else what tells
    /// that the globals may have changed since, and the state resolved then.
    watch: Option<Box<Watch>>,
}

/// What a call site that found a no-op global watches, to resolve again once
/// a provider may have been installed (see [`CallSite`]). Every check is a
/// plain load: the no-provider path stays about as cheap as a bare call.
struct Watch {
    /// The global meter provider the state found, OpenTelemetry's no-op one:
    /// `set_meter_provider` drops the global's reference, the only strong one
    /// (a `Weak` keeps it from being ours).
    noop_meter: Option<Weak<dyn opentelemetry::metrics::MeterProvider + Send + Sync>>,
    /// `tracing::dispatcher::has_been_set()` at resolution.
    subscriber: bool,
    /// [`TRACER_FOUND`] at resolution.
    tracer_found: bool,
    /// The state resolved after a change. States are never freed (a call
    /// site is `'static`); a change of the globals adds at most one to each
    /// watching call site.
    next: OnceLock<State>,
}

/// Set once any call site finds a tracer provider at its first call: the
/// one change to the tracer global that can be seen cheaply.
static TRACER_FOUND: AtomicBool = AtomicBool::new(false);

impl Watch {
    #[inline]
    fn changed(&self) -> bool {
        self.noop_meter
            .as_ref()
            .is_some_and(|m| m.strong_count() == 0)
            || tracing::dispatcher::has_been_set() != self.subscriber
            || TRACER_FOUND.load(Ordering::Relaxed) != self.tracer_found
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("tracer", &self.tracer.is_some())
            .field("histogram", &self.histogram.is_some())
            .field("span_event", &self.span_event)
            .field("events_only", &self.events_only)
            .finish_non_exhaustive()
    }
}

impl CallSite {
    /// A call site for `info`; instruments are resolved at the first call.
    pub const fn new(info: Info) -> Self {
        CallSite {
            info,
            state: OnceLock::new(),
        }
    }

    /// What the macro said about this function.
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// The instruments: resolved at the first call and, while a global was
    /// no-op, again after the globals changed (see [`CallSite`]).
    #[inline]
    pub(crate) fn state(&self) -> &State {
        let first = self.state.get_or_init(|| State::resolve(&self.info));
        match &first.watch {
            // Both a tracer and a meter: the usual path, one more load.
            None => first,
            Some(watch) => State::latest(first, watch, &self.info),
        }
    }

    /// `true` while this call site records nothing: it found neither a tracer
    /// nor a meter provider, nor a global `tracing` subscriber for its
    /// exception events (it looks again once they may have been installed:
    /// see [`CallSite`]).
    pub fn is_inert(&self) -> bool {
        self.state().is_inert()
    }

    /// `code.function.name` on the default metric, nothing on a named one.
    #[inline]
    pub(crate) fn metric_base(&self) -> Option<KeyValue> {
        match self.info.metric {
            None => Some(KeyValue::new(CODE_FUNCTION_NAME, self.info.function)),
            Some(_) => None,
        }
    }
}

impl State {
    fn resolve(info: &Info) -> State {
        // Before the first body runs: the hook that notes where a panic
        // happened (see `crate::panic_hook`).
        crate::panic_hook::install();
        // A provider that panics while handing out instruments must not take
        // the user's function down: treat it as absent.
        std::panic::catch_unwind(|| State::try_resolve(info)).unwrap_or_else(|_| State {
            tracer: None,
            histogram: None,
            span_event: false,
            events_only: false,
            error_types: ErrorTypes::new(),
            watch: None,
        })
    }

    fn try_resolve(info: &Info) -> State {
        let scope = InstrumentationScope::builder(info.scope_name)
            .with_version(info.scope_version)
            .build();
        let tracer = global::tracer_with_scope(scope.clone());
        let tracer = (!is_noop_tracer(&tracer)).then_some(tracer);
        let meters = global::meter_provider();
        let histogram = (!is_noop_meter_provider(&*meters)).then(|| {
            meters
                .meter_with_scope(scope)
                .f64_histogram(info.metric_name())
                .with_unit("s")
                .with_description(
                    "Duration of the operation, successes and failures alike; failures carry error.type.",
                )
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build()
        });
        let subscriber = tracing::dispatcher::has_been_set();
        let events_only =
            tracer.is_none() && histogram.is_none() && info.exception.is_some() && subscriber;
        if tracer.is_some() {
            TRACER_FOUND.store(true, Ordering::Relaxed);
        }
        let watch = (tracer.is_none() || histogram.is_none()).then(|| {
            Box::new(Watch {
                noop_meter: histogram.is_none().then(|| Arc::downgrade(&meters)),
                subscriber,
                tracer_found: TRACER_FOUND.load(Ordering::Relaxed),
                next: OnceLock::new(),
            })
        });
        State {
            tracer,
            histogram,
            span_event: exception_span_event_opt_in(),
            events_only,
            error_types: ErrorTypes::new(),
            watch,
        }
    }

    /// The newest state of a call site whose first state is `first`.
    #[inline]
    fn latest<'s>(first: &'s State, watch: &'s Watch, info: &Info) -> &'s State {
        let (mut state, mut watch) = (first, watch);
        loop {
            let next = match watch.next.get() {
                Some(next) => next,
                None if !watch.changed() => return state,
                None => watch.next.get_or_init(|| State::resolve(info)),
            };
            match &next.watch {
                None => return next,
                Some(w) => (state, watch) = (next, w),
            }
        }
    }

    #[inline]
    pub(crate) fn is_inert(&self) -> bool {
        self.tracer.is_none() && self.histogram.is_none() && !self.events_only
    }
}

/// The API's no-op tracer hands back its parent's span context unchanged, where
/// a real tracer makes a new span (or, asked with telemetry suppressed as here,
/// none at all). The probe therefore creates no span in the SDK.
fn is_noop_tracer(tracer: &global::BoxedTracer) -> bool {
    let marker = SpanContext::new(
        TraceId::from(0x1e_u128),
        SpanId::from(0x1e_u64),
        TraceFlags::NOT_SAMPLED,
        true,
        TraceState::NONE,
    );
    let parent = Context::new()
        .with_remote_span_context(marker.clone())
        .with_telemetry_suppressed();
    let probe = tracer.build_with_context(
        opentelemetry::trace::SpanBuilder::from_name("instrument_errors.probe"),
        &parent,
    );
    opentelemetry::trace::Span::span_context(&probe) == &marker
}

/// The API's no-op meter provider is zero-sized; a provider with no state
/// cannot hold a pipeline to export through.
fn is_noop_meter_provider(
    provider: &(dyn opentelemetry::metrics::MeterProvider + Send + Sync),
) -> bool {
    std::mem::size_of_val(provider) == 0
}

/// Reads `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` once per process.
pub(crate) fn exception_span_event_opt_in() -> bool {
    static OPT_IN: OnceLock<bool> = OnceLock::new();
    *OPT_IN.get_or_init(|| {
        std::env::var("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN")
            .map(|v| v.split(',').any(|part| part.trim() == "logs/dup"))
            .unwrap_or(false)
    })
}

/// How many `Self` types a method annotated on its own finds without a lock.
const TYPED_SLOTS: usize = 8;

/// The call sites of a method annotated on its own, one per `Self` type.
///
/// The attribute sees only the method, not its `impl` block, so the type is
/// known at run time: `std::any::type_name::<Self>()`. Each distinct type
/// (generic arguments left out) gets a call site of its own, made once from
/// the method's static one with `code.function.name` =
/// `<module>::<Type>::<method>` (as an annotated `impl` block names it),
/// and kept for the life of the process (a bounded set: the program's types).
/// One function serves several types when it is a trait's default method or
/// part of a blanket or generic impl; each still gets its own name. The first
/// eight types are found with atomic loads only; more take a lock.
#[derive(Debug)]
pub struct TypedSites {
    slots: [OnceLock<(&'static str, &'static CallSite)>; TYPED_SLOTS],
}

impl Default for TypedSites {
    fn default() -> Self {
        Self::new()
    }
}

impl TypedSites {
    /// No type seen yet.
    pub const fn new() -> Self {
        // A `const` item repeats a non-`Copy` value (no inline `const`
        // block: the MSRV is 1.78).
        #[allow(clippy::declare_interior_mutable_const)] // only copied into `slots`
        const EMPTY: OnceLock<(&'static str, &'static CallSite)> = OnceLock::new();
        TypedSites {
            slots: [EMPTY; TYPED_SLOTS],
        }
    }

    /// The call site of `base` (the method's static one) for the `Self` type
    /// that `type_name` names; with `rename` (no `name = ..` given), its
    /// span name is `Type::method` too.
    #[inline]
    pub fn site(
        &'static self,
        base: &'static CallSite,
        type_name: fn() -> &'static str,
        rename: bool,
    ) -> &'static CallSite {
        let name = type_name();
        for slot in &self.slots {
            match slot.get() {
                Some((seen, site)) if std::ptr::eq(*seen, name) || *seen == name => return site,
                Some(_) => {}
                None => break,
            }
        }
        self.insert(base, name, rename)
    }

    #[cold]
    #[inline(never)]
    fn insert(
        &'static self,
        base: &'static CallSite,
        name: &'static str,
        rename: bool,
    ) -> &'static CallSite {
        type Registry = Vec<(usize, &'static str, &'static CallSite)>;
        static REGISTRY: std::sync::Mutex<Registry> = std::sync::Mutex::new(Vec::new());
        let owner = owner_name(name);
        let key = std::ptr::from_ref(base) as usize;
        let site = {
            let mut registry = REGISTRY
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match registry.iter().find(|(b, o, _)| *b == key && *o == owner) {
                Some((_, _, site)) => *site,
                None => {
                    let site: &'static CallSite =
                        Box::leak(Box::new(CallSite::new(base.info.for_owner(owner, rename))));
                    registry.push((key, owner, site));
                    site
                }
            }
        };
        for slot in &self.slots {
            match slot.get() {
                Some(_) => {}
                None => {
                    if slot.set((name, site)).is_ok() {
                        break;
                    }
                }
            }
        }
        site
    }
}

/// Whether any span name was completed at run time (a method annotated on
/// its own): until then no exception record needs a renamed event.
static RENAMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether any span name was completed at run time (one relaxed load).
#[inline(always)]
pub(crate) fn any_renamed() -> bool {
    RENAMED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The type's name as `code.function.name` shows it, as an annotated `impl`
/// block names it: its last path segment, without generic arguments nor
/// reference (`&my::repo::Repo<u8>` gives `Repo`).
fn owner_name(type_name: &'static str) -> &'static str {
    let name = type_name.trim_start_matches('&').trim_start_matches("mut ");
    let name = name.split('<').next().unwrap_or(name);
    name.rsplit("::").next().unwrap_or(name)
}

impl Info {
    /// This method's `Info` for the type `owner`: `code.function.name` is
    /// `<module>::<owner>::<method>`, the module being the method's (a string
    /// made once per type and kept).
    fn for_owner(&self, owner: &str, rename: bool) -> Info {
        let function = match self.function.rsplit_once("::") {
            Some((module, method)) => format!("{module}::{owner}::{method}"),
            None => format!("{owner}::{}", self.function),
        };
        let function: &'static str = Box::leak(function.into_boxed_str());
        // The span name (the exception records follow it: see
        // `event::emit_exception`).
        let name: &'static str = if rename {
            RENAMED.store(true, std::sync::atomic::Ordering::Relaxed);
            Box::leak(format!("{owner}::{}", self.name).into_boxed_str())
        } else {
            self.name
        };
        Info {
            name,
            function,
            kind: self.kind,
            metric: self.metric,
            scope_name: self.scope_name,
            scope_version: self.scope_version,
            description: self.description,
            exception: self.exception,
            handled_attribute: self.handled_attribute,
            current_span: self.current_span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noop_globals_are_detected() {
        let tracer = global::tracer_with_scope(InstrumentationScope::builder("t").build());
        assert!(is_noop_tracer(&tracer));
        assert!(is_noop_meter_provider(&*global::meter_provider()));
    }

    #[test]
    fn real_meter_provider_is_not_noop() {
        struct Real(#[allow(dead_code)] u8);
        impl opentelemetry::metrics::MeterProvider for Real {
            fn meter_with_scope(&self, _: InstrumentationScope) -> opentelemetry::metrics::Meter {
                opentelemetry::metrics::noop::NoopMeterProvider::new()
                    .meter_with_scope(InstrumentationScope::builder("x").build())
            }
        }
        assert!(!is_noop_meter_provider(&Real(1)));
    }

    #[test]
    fn typed_sites_name_each_type_once() {
        struct Repo<T>(T);
        struct Other;
        static BASE: CallSite =
            CallSite::new(Info::for_test("insert", "app::repo::insert", Kind::Client));
        static TYPED: TypedSites = TypedSites::new();
        let a = TYPED.site(&BASE, std::any::type_name::<Repo<u8>>, true);
        let b = TYPED.site(&BASE, std::any::type_name::<Repo<String>>, true);
        let c = TYPED.site(&BASE, std::any::type_name::<&Other>, true);
        assert_eq!(a.info.function, "app::repo::Repo::insert");
        assert_eq!(a.info.name, "Repo::insert");
        // Generic arguments left out: one call site for both.
        assert!(std::ptr::eq(a, b));
        assert_eq!(c.info.function, "app::repo::Other::insert");
        assert_eq!(c.info.name, "Other::insert");
        assert_eq!(c.info.kind, Kind::Client);
        // Found again without a new one.
        assert!(std::ptr::eq(
            TYPED.site(&BASE, std::any::type_name::<&Other>, true),
            c
        ));
        // A name given with `name = ..` is kept.
        static NAMED: CallSite = CallSite::new(Info::for_test(
            "repo.insert",
            "app::repo::insert",
            Kind::Client,
        ));
        static TYPED_NAMED: TypedSites = TypedSites::new();
        let d = TYPED_NAMED.site(&NAMED, std::any::type_name::<Other>, false);
        assert_eq!(d.info.name, "repo.insert");
        assert_eq!(d.info.function, "app::repo::Other::insert");
    }

    #[test]
    fn kinds_map_to_span_kinds() {
        assert_eq!(SpanKind::from(Kind::Server), SpanKind::Server);
        assert_eq!(SpanKind::from(Kind::Consumer), SpanKind::Consumer);
        assert_eq!(SpanKind::from(Kind::Internal), SpanKind::Internal);
    }
}
