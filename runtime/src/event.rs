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
pub fn emit_exception(callsite: &'static DefaultCallsite, record: &ExceptionRecord<'_>) {
    let meta = callsite.metadata();
    // A capture (feature `testing`) sees the event whether or not a
    // subscriber takes it.
    #[cfg(feature = "testing")]
    crate::testing::record(meta, record);
    if !level_enabled(*meta.level()) {
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
