//! The exception log record's `tracing` event, emitted cheaply to compile.
//!
//! Each instrumented function needs its own `tracing` callsite (the event
//! name, `<span name>.exception`, and the level are static metadata), but
//! not its own copy of the code that checks interest, builds the value set
//! and dispatches: `tracing::event!` expands all of that at every use, which
//! made the exception record most of the compile time of an instrumented
//! function. Here the expansion holds only two `static`s per level (the
//! metadata and the callsite, constant data) and calls [`emit_exception`],
//! compiled once in this crate. The event is the one `tracing::event!(name:
//! ..., level, "exception.type" = ..., "exception.message" = ...,
//! "exception.stacktrace" = ..., "{} failed: {}", span_name, message)` would make: same name, target, level,
//! module path, file, line and fields, with the same enabled checks.

use tracing::callsite::{Callsite as _, DefaultCallsite};
use tracing::field::Value;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use opentelemetry_semantic_conventions::attribute;

use crate::exception::ExceptionRecord;

/// The names of the fields of every exception event, in this order:
/// `message` (the line a person reads: `<span name> failed: <exception
/// message>`, which `opentelemetry-appender-tracing` makes the log record's
/// body and `tracing_subscriber::fmt` prints first), the semantic
/// conventions' `exception.type`, `exception.message`,
/// `exception.stacktrace` and `code.function.name`; an operation with
/// `handled_attribute` adds that name after them. The event's `FieldSet` is
/// built from this array (no `tracing` macro, whose field names would have to
/// be literal tokens), so the keys are the `opentelemetry-semantic-conventions`
/// constants themselves.
pub const EXCEPTION_FIELDS: [&str; 5] = [
    "message",
    attribute::EXCEPTION_TYPE,
    attribute::EXCEPTION_MESSAGE,
    attribute::EXCEPTION_STACKTRACE,
    attribute::CODE_FUNCTION_NAME,
];

/// A `'static` `tracing` callsite for the exception event named `$name` at
/// `$level` (an ident: `ERROR`, `WARN`, ...), at the place of expansion, with
/// the extra field `$handled` when given.
#[doc(hidden)]
#[macro_export]
macro_rules! __exception_callsite {
    (@ $name:expr, $level:ident, $fields:expr) => {{
        static META: $crate::__private::tracing::Metadata<'static> =
            $crate::__private::tracing::Metadata::new(
                $name,
                ::core::module_path!(),
                $crate::__private::tracing::Level::$level,
                ::core::option::Option::Some(::core::file!()),
                ::core::option::Option::Some(::core::line!()),
                ::core::option::Option::Some(::core::module_path!()),
                $crate::__private::tracing::field::FieldSet::new(
                    $fields,
                    $crate::__private::tracing::callsite::Identifier(&CALLSITE),
                ),
                $crate::__private::tracing::metadata::Kind::EVENT,
            );
        static CALLSITE: $crate::__private::tracing::callsite::DefaultCallsite =
            $crate::__private::tracing::callsite::DefaultCallsite::new(&META);
        &CALLSITE
    }};
    ($name:expr, $level:ident) => {
        $crate::__exception_callsite!(@ $name, $level, &$crate::__private::EXCEPTION_FIELDS)
    };
    ($name:expr, $level:ident, $handled:literal) => {
        $crate::__exception_callsite!(@ $name, $level, &[
            $crate::__private::EXCEPTION_FIELDS[0],
            $crate::__private::EXCEPTION_FIELDS[1],
            $crate::__private::EXCEPTION_FIELDS[2],
            $crate::__private::EXCEPTION_FIELDS[3],
            $crate::__private::EXCEPTION_FIELDS[4],
            $handled,
        ])
    };
}

/// The [`ExceptionSink`](crate::__private::ExceptionSink) of an operation:
/// the event `$name`, at `$level` for its own errors, at one of `$levels` for
/// the records it emits (a severity reached in the callers, `DEBUG` for a
/// handled error, `ERROR` for a panic: the expansion lists those that can
/// occur, most severe first); `$handled` is the `handled_attribute`.
#[doc(hidden)]
#[macro_export]
macro_rules! __exception_sink {
    ($name:literal, $level:ident, [$($levels:ident),+] $(, $handled:literal)?) => {
        $crate::__private::ExceptionSink {
            level: $crate::__private::tracing::Level::$level,
            emit: |record: &$crate::__private::ExceptionRecord<'_>,
                   level: $crate::__private::tracing::Level| {
                let callsite =
                    $crate::__exception_sink!(@pick level, $name, [$($levels),+] $(, $handled)?);
                $crate::__private::emit_exception(callsite, record);
            },
        }
    };
    // The callsite of `$level`, among `$levels` (most severe first); a level
    // not among them (none is asked for by the runtime) takes the last.
    (@pick $level:ident, $name:literal, [$only:ident] $(, $handled:literal)?) => {
        $crate::__exception_callsite!($name, $only $(, $handled)?)
    };
    (@pick $level:ident, $name:literal, [$first:ident, $($rest:ident),+] $(, $handled:literal)?) => {
        if $level == $crate::__private::tracing::Level::$first {
            $crate::__exception_callsite!($name, $first $(, $handled)?)
        } else {
            $crate::__exception_sink!(@pick $level, $name, [$($rest),+] $(, $handled)?)
        }
    };
}

/// Between the span name and the message in the event's message.
const FAILED: &str = " failed: ";

/// Whether an event at `level` can be enabled at all (the static and the
/// global maximum levels): a record that cannot be is not formatted.
#[inline]
pub(crate) fn level_enabled(level: tracing::Level) -> bool {
    level <= STATIC_MAX_LEVEL && level <= LevelFilter::current()
}

/// Emits `record` as an event of `callsite`, if anything is interested: what
/// `tracing::event!(parent: None, ..)` does, compiled once.
///
/// The event is an **explicit root** (no parent `tracing` span): layers that
/// attach events to the current `tracing` span, such as
/// tracing-opentelemetry's (which turns them into span events and, at
/// `ERROR`, sets the span's status), leave it alone, while
/// `opentelemetry-appender-tracing` still ties the log record to the current
/// OpenTelemetry context, the operation's span.
///
/// The event is named `<record.event>.exception`: when that span name was
/// completed at run time (a method annotated on its own, whose span name is
/// `Type::method`), the event goes through a callsite made once for that
/// name, a copy of `callsite` but for the name.
pub fn emit_exception(callsite: &'static DefaultCallsite, record: &ExceptionRecord<'_>) {
    let meta = callsite.metadata();
    if crate::site::any_renamed() && is_renamed(meta.name(), record.event) {
        // Made once; if it cannot be (a subscriber panicking or emitting a
        // renamed record while the callsite registers), the compiled one.
        let typed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            typed::callsite(callsite, meta, record.event)
        }));
        if let Ok(Some(typed)) = typed {
            emit(typed.metadata(), || typed.interest(), record);
            return;
        }
    }
    emit(meta, || callsite.interest(), record);
}

/// Whether `span_name` is not the one the event `event_name` was compiled
/// for (`<span name>.exception`).
#[inline]
fn is_renamed(event_name: &str, span_name: &str) -> bool {
    event_name.strip_suffix(EXCEPTION_SUFFIX) != Some(span_name)
}

/// The suffix of every exception event name.
const EXCEPTION_SUFFIX: &str = ".exception";

#[inline]
fn emit(
    meta: &'static tracing::Metadata<'static>,
    interest: impl FnOnce() -> tracing::subscriber::Interest,
    record: &ExceptionRecord<'_>,
) {
    // A capture (feature `testing`) sees the event whether or not a
    // subscriber takes it.
    #[cfg(feature = "testing")]
    crate::testing::record(meta, record);
    if !level_enabled(*meta.level()) {
        return;
    }
    let interest = interest();
    if interest.is_never()
        || !(interest.is_always() || tracing::dispatcher::get_default(|d| d.enabled(meta)))
    {
        return;
    }
    let fields = meta.fields();
    let mut names = fields.iter();
    let (Some(body), Some(r#type), Some(message), Some(stacktrace), Some(function)) = (
        names.next(),
        names.next(),
        names.next(),
        names.next(),
        names.next(),
    ) else {
        return;
    };
    // `<span name> failed: <message>`, or the type without a message: built
    // here, once, at its exact size, and handed on as a `&str` (a subscriber
    // copies it; formatting it through `fmt::Arguments` in each subscriber
    // cost several times more).
    let detail = record.message.unwrap_or(record.r#type);
    let mut line = String::with_capacity(record.name.len() + FAILED.len() + detail.len());
    line.push_str(record.name);
    line.push_str(FAILED);
    line.push_str(detail);
    let line = line.as_str();
    let root: Option<tracing::Id> = None;
    match names.next() {
        None => {
            let values: [(&tracing::field::Field, Option<&dyn Value>); 5] = [
                (&body, Some(&line as &dyn Value)),
                (&r#type, Some(&record.r#type as &dyn Value)),
                (&message, Some(&record.message as &dyn Value)),
                (&stacktrace, Some(&record.stacktrace as &dyn Value)),
                (&function, Some(&record.function as &dyn Value)),
            ];
            tracing::Event::child_of(root, meta, &fields.value_set(&values));
        }
        Some(handled) => {
            let values: [(&tracing::field::Field, Option<&dyn Value>); 6] = [
                (&body, Some(&line as &dyn Value)),
                (&r#type, Some(&record.r#type as &dyn Value)),
                (&message, Some(&record.message as &dyn Value)),
                (&stacktrace, Some(&record.stacktrace as &dyn Value)),
                (&function, Some(&record.function as &dyn Value)),
                (&handled, Some(&record.handled as &dyn Value)),
            ];
            tracing::Event::child_of(root, meta, &fields.value_set(&values));
        }
    }
}

/// Exception callsites made at run time, one per compiled callsite and span
/// name completed at run time.
mod typed {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::{OnceLock, PoisonError, RwLock};

    use tracing::callsite::{Callsite, DefaultCallsite, Identifier};
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;
    use tracing::subscriber::Interest;
    use tracing::Metadata;

    use super::EXCEPTION_SUFFIX;

    /// A callsite whose metadata is made at run time (and kept for the life
    /// of the process, as `tracing` requires).
    pub(super) struct TypedCallsite {
        meta: OnceLock<Metadata<'static>>,
        /// The subscribers' interest: [`NEVER`], [`SOMETIMES`], [`ALWAYS`].
        interest: AtomicU8,
    }

    const NEVER: u8 = 0;
    const SOMETIMES: u8 = 1;
    const ALWAYS: u8 = 2;

    impl TypedCallsite {
        /// The interest the subscribers registered for this callsite.
        pub(super) fn interest(&self) -> Interest {
            match self.interest.load(Ordering::Relaxed) {
                NEVER => Interest::never(),
                ALWAYS => Interest::always(),
                _ => Interest::sometimes(),
            }
        }
    }

    impl Callsite for TypedCallsite {
        fn set_interest(&self, interest: Interest) {
            let value = if interest.is_never() {
                NEVER
            } else if interest.is_always() {
                ALWAYS
            } else {
                SOMETIMES
            };
            self.interest.store(value, Ordering::Relaxed);
        }

        fn metadata(&self) -> &Metadata<'_> {
            match self.meta.get() {
                Some(meta) => meta,
                // Not reached: the metadata is set before the callsite is
                // registered or used.
                None => {
                    crate::__exception_callsite!("instrument_errors.exception", WARN).metadata()
                }
            }
        }
    }

    type Registry = Vec<(usize, &'static str, &'static TypedCallsite)>;

    static REGISTRY: RwLock<Registry> = RwLock::new(Vec::new());

    thread_local! {
        /// This thread is registering a callsite with `tracing` (which holds
        /// `tracing`'s callsite lock while it asks the subscribers).
        pub(super) static REGISTERING: Cell<bool> = const { Cell::new(false) };
    }

    /// The callsite of `base` (whose metadata is `meta`) renamed for the
    /// span name `span_name`: found, or made and registered with `tracing`;
    /// `None` while this thread is registering one already (a subscriber
    /// emitting a renamed record from `register_callsite`: registering
    /// another would wait for `tracing`'s lock this thread holds).
    pub(super) fn callsite(
        base: &'static DefaultCallsite,
        meta: &'static Metadata<'static>,
        span_name: &str,
    ) -> Option<&'static TypedCallsite> {
        let key = std::ptr::from_ref(base) as usize;
        let found = |registry: &Registry| {
            registry
                .iter()
                .find(|(b, name, _)| *b == key && *name == span_name)
                .map(|(_, _, site)| *site)
        };
        if let Some(site) = found(&REGISTRY.read().unwrap_or_else(PoisonError::into_inner)) {
            return Some(site);
        }
        if REGISTERING.try_with(Cell::get).unwrap_or(true) {
            return None;
        }
        let site = make(meta, span_name);
        // Registered with no lock of ours held (registering asks the
        // subscribers, which may emit events of their own), and published
        // once registered: a site in the registry always has its interest.
        REGISTERING.with(|r| r.set(true));
        struct Done;
        impl Drop for Done {
            fn drop(&mut self) {
                let _ = REGISTERING.try_with(|r| r.set(false));
            }
        }
        let done = Done;
        tracing::callsite::register(site);
        drop(done);
        let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have published one meanwhile: the first stays
        // (this one stays registered, unused).
        if let Some(first) = found(&registry) {
            return Some(first);
        }
        registry.push((key, site.span_name(), site));
        Some(site)
    }

    /// A copy of `meta` named `<span_name>.exception`, on a new callsite.
    #[cold]
    fn make(meta: &'static Metadata<'static>, span_name: &str) -> &'static TypedCallsite {
        let name: &'static str =
            Box::leak(format!("{span_name}{EXCEPTION_SUFFIX}").into_boxed_str());
        let fields: &'static [&'static str] = Box::leak(
            meta.fields()
                .iter()
                .map(|field| field.name())
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let site: &'static TypedCallsite = Box::leak(Box::new(TypedCallsite {
            meta: OnceLock::new(),
            interest: AtomicU8::new(SOMETIMES),
        }));
        let _ = site.meta.set(Metadata::new(
            name,
            meta.target(),
            *meta.level(),
            meta.file(),
            meta.line(),
            meta.module_path(),
            FieldSet::new(fields, Identifier(site)),
            Kind::EVENT,
        ));
        site
    }

    impl TypedCallsite {
        /// The span name this callsite's event is named after.
        fn span_name(&self) -> &'static str {
            match self.meta.get() {
                Some(meta) => {
                    let name: &'static str = meta.name();
                    name.strip_suffix(EXCEPTION_SUFFIX).unwrap_or(name)
                }
                None => "",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_name_completed_at_run_time_renames_the_event() {
        assert!(!is_renamed("insert.exception", "insert"));
        assert!(is_renamed("insert.exception", "Repo::insert"));
        assert!(is_renamed("insert", "insert"));
    }

    #[test]
    fn typed_callsites_copy_the_compiled_one_under_the_new_name() {
        let base = crate::__exception_callsite!("insert.exception", WARN, "handled");
        let meta = base.metadata();
        let repo = typed::callsite(base, meta, "Repo::insert").expect("a callsite");
        let typed_meta = repo.metadata();
        assert_eq!(typed_meta.name(), "Repo::insert.exception");
        assert_eq!(typed_meta.level(), meta.level());
        assert_eq!(typed_meta.target(), meta.target());
        assert_eq!(typed_meta.file(), meta.file());
        assert_eq!(typed_meta.line(), meta.line());
        assert!(typed_meta.is_event());
        let names =
            |m: &tracing::Metadata<'_>| m.fields().iter().map(|f| f.name()).collect::<Vec<_>>();
        assert_eq!(names(typed_meta), names(meta));
        assert_eq!(names(meta).len(), 6);
        // The fields belong to the new callsite.
        assert_eq!(typed_meta.callsite(), tracing::callsite::Identifier(repo));
        // Made once per name, and per compiled callsite.
        let again = typed::callsite(base, meta, "Repo::insert").expect("a callsite");
        assert!(std::ptr::eq(repo, again));
        let other = typed::callsite(base, meta, "Cache::insert").expect("a callsite");
        assert!(!std::ptr::eq(repo, other));
        assert_eq!(other.metadata().name(), "Cache::insert.exception");
        let error = crate::__exception_callsite!("insert.exception", ERROR);
        let at_error =
            typed::callsite(error, error.metadata(), "Repo::insert").expect("a callsite");
        assert!(!std::ptr::eq(repo, at_error));
        assert_eq!(*at_error.metadata().level(), tracing::Level::ERROR);
    }

    #[test]
    fn no_callsite_is_made_while_one_registers_on_this_thread() {
        let base = crate::__exception_callsite!("get.exception", WARN);
        let meta = base.metadata();
        typed::REGISTERING.with(|r| r.set(true));
        let during = typed::callsite(base, meta, "Repo::get");
        typed::REGISTERING.with(|r| r.set(false));
        assert!(during.is_none());
        let after = typed::callsite(base, meta, "Repo::get").expect("a callsite");
        assert_eq!(after.metadata().name(), "Repo::get.exception");
    }
}
