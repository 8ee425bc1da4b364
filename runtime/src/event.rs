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
//! "exception.stacktrace" = ...)` would make: same name, target, level,
//! module path, file, line and fields, with the same enabled checks.

use tracing::callsite::{Callsite as _, DefaultCallsite};
use tracing::field::Value;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use opentelemetry_semantic_conventions::attribute;

use crate::exception::ExceptionRecord;

/// The names of the fields of every exception event, in this order: the
/// semantic conventions' `exception.type`, `exception.message` and
/// `exception.stacktrace`. The event's `FieldSet` is built from this array (no
/// `tracing` macro, whose field names would have to be literal tokens), so the
/// keys are the `opentelemetry-semantic-conventions` constants themselves.
pub const EXCEPTION_FIELDS: [&str; 3] = [
    attribute::EXCEPTION_TYPE,
    attribute::EXCEPTION_MESSAGE,
    attribute::EXCEPTION_STACKTRACE,
];

/// A `'static` `tracing` callsite for the exception event named `$name` at
/// `$level` (an ident: `ERROR`, `WARN`, ...), at the place of expansion.
#[doc(hidden)]
#[macro_export]
macro_rules! __exception_callsite {
    ($name:expr, $level:ident) => {{
        static META: $crate::__private::tracing::Metadata<'static> =
            $crate::__private::tracing::Metadata::new(
                $name,
                ::core::module_path!(),
                $crate::__private::tracing::Level::$level,
                ::core::option::Option::Some(::core::file!()),
                ::core::option::Option::Some(::core::line!()),
                ::core::option::Option::Some(::core::module_path!()),
                $crate::__private::tracing::field::FieldSet::new(
                    &$crate::__private::EXCEPTION_FIELDS,
                    $crate::__private::tracing::callsite::Identifier(&CALLSITE),
                ),
                $crate::__private::tracing::metadata::Kind::EVENT,
            );
        static CALLSITE: $crate::__private::tracing::callsite::DefaultCallsite =
            $crate::__private::tracing::callsite::DefaultCallsite::new(&META);
        &CALLSITE
    }};
}

/// The [`ExceptionSink`](crate::__private::ExceptionSink) of an operation:
/// the event `$name` at `$level` for errors, at `ERROR` for panics.
#[doc(hidden)]
#[macro_export]
macro_rules! __exception_sink {
    ($name:literal, ERROR) => {
        |record: &$crate::__private::ExceptionRecord<'_>, _panic: bool| {
            $crate::__private::emit_exception($crate::__exception_callsite!($name, ERROR), record);
        }
    };
    ($name:literal, $level:ident) => {
        |record: &$crate::__private::ExceptionRecord<'_>, panic: bool| {
            let callsite = if panic {
                $crate::__exception_callsite!($name, ERROR)
            } else {
                $crate::__exception_callsite!($name, $level)
            };
            $crate::__private::emit_exception(callsite, record);
        }
    };
}

/// Emits `record` as an event of `callsite`, if anything is interested: what
/// `tracing::event!` does, compiled once.
pub fn emit_exception(callsite: &'static DefaultCallsite, record: &ExceptionRecord<'_>) {
    let meta = callsite.metadata();
    let level = *meta.level();
    if !(level <= STATIC_MAX_LEVEL && level <= LevelFilter::current()) {
        return;
    }
    let interest = callsite.interest();
    if interest.is_never()
        || !(interest.is_always() || tracing::dispatcher::get_default(|d| d.enabled(meta)))
    {
        return;
    }
    let fields = meta.fields();
    let mut names = fields.iter();
    let (Some(r#type), Some(message), Some(stacktrace)) =
        (names.next(), names.next(), names.next())
    else {
        return;
    };
    let values: [(&tracing::field::Field, Option<&dyn Value>); 3] = [
        (&r#type, Some(&record.r#type as &dyn Value)),
        (&message, Some(&record.message as &dyn Value)),
        (&stacktrace, Some(&record.stacktrace as &dyn Value)),
    ];
    tracing::Event::dispatch(meta, &fields.value_set(&values));
}
