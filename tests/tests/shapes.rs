//! Function shapes (issue 10): the shapes of `tracing-attributes`' test suite
//! (tokio-rs/tracing, `tracing-attributes/tests/`: `instrument.rs`,
//! `async_fn.rs`, `err.rs`, `ret.rs`, `destructuring.rs`, `fields.rs`,
//! `names.rs`, `levels.rs`, `targets.rs`, `parents.rs`, `follows_from.rs`,
//! `dead_code.rs`, `ui/pass/type_shadowing.rs`) and the shapes listed in issue
//! 10, each annotated with `#[instrument_errors]` instead of
//! `#[tracing::instrument]`, compiled under `#![deny(warnings)]` and
//! `clippy::pedantic`, called, and read back from the SDK.
//!
//! Shapes are numbered (`S001` and on); every shape is called by a test, which checks
//! its span (by `code.function.name`): status Unset and no `error.type` on
//! success, status Error and the `error.type` on failure. Shapes that return a
//! future (or are `async`) call `mark` after an `.await` inside the future:
//! the test then checks that the span that was current at that point is the
//! shape's own span, i.e. the returned future is what is instrumented, not its
//! construction.
//!
//! Lints that the plain function itself would trigger are allowed on the
//! function, as a user would write it.

#![deny(warnings)]
#![warn(clippy::pedantic)]

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use instrument_errors::ErrorType;
use instrument_errors_tests::{attr, telemetry};
use opentelemetry::trace::{SpanId, Status, TraceContextExt as _};
use opentelemetry::Context;
use opentelemetry_sdk::trace::SpanData;

/// `code.function.name` of the function `$name` of the current module.
macro_rules! f {
    ($name:literal) => {
        concat!(module_path!(), "::", $name)
    };
}

#[derive(Debug, ErrorType)]
pub enum ShapeError {
    Broken,
    #[error_type("gone")]
    Missing,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::Broken => f.write_str("broken"),
            ShapeError::Missing => f.write_str("missing"),
        }
    }
}

impl std::error::Error for ShapeError {}

fn marks() -> &'static Mutex<HashMap<String, SpanId>> {
    static MARKS: OnceLock<Mutex<HashMap<String, SpanId>>> = OnceLock::new();
    MARKS.get_or_init(Mutex::default)
}

/// Records the span current at this point under `function`.
fn mark(function: &str) {
    let id = Context::current().span().span_context().span_id();
    marks()
        .lock()
        .expect("marks")
        .insert(function.to_owned(), id);
}

/// Finished spans of `function` (its `code.function.name`).
fn spans_of(function: &str) -> Vec<SpanData> {
    let _ = telemetry().tracer_provider.force_flush();
    telemetry()
        .spans
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .filter(|s| attr(s, "code.function.name").is_some_and(|v| names(&v.as_str(), function)))
        .collect()
}

/// Whether `recorded` is the `code.function.name` of `function`
/// (`module::name`): that, or for a method annotated on its own
/// `module::Type::name`, the runtime naming it after `Self` (issue 18; a
/// primitive `Self` too: `module::u8::parse_it`).
fn names(recorded: &str, function: &str) -> bool {
    if recorded == function {
        return true;
    }
    let Some((module, name)) = function.rsplit_once("::") else {
        return false;
    };
    recorded
        .strip_prefix(module)
        .and_then(|r| r.strip_prefix("::"))
        .and_then(|r| r.strip_suffix(name))
        .and_then(|r| r.strip_suffix("::"))
        .is_some_and(|ty| {
            const PRIMITIVES: [&str; 17] = [
                "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16",
                "i32", "i64", "i128", "isize", "f32", "f64",
            ];
            ty.starts_with(char::is_uppercase) || PRIMITIVES.contains(&ty)
        })
}

/// The single finished span of `function`.
fn span_of(function: &str) -> SpanData {
    let mut spans = spans_of(function);
    assert_eq!(spans.len(), 1, "expected one span of {function}: {spans:?}");
    spans.remove(0)
}

fn error_type(span: &SpanData) -> Option<String> {
    attr(span, "error.type").map(|v| v.as_str().into_owned())
}

/// `function` ran once and succeeded.
fn ok(function: &str) -> SpanData {
    let span = span_of(function);
    assert_eq!(span.status, Status::Unset, "{function}");
    assert_eq!(error_type(&span), None, "{function}");
    span
}

/// `function` ran once and failed with `expected` as `error.type`.
fn err(function: &str, expected: &str) -> SpanData {
    let span = span_of(function);
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{function}: {:?}",
        span.status
    );
    assert_eq!(error_type(&span).as_deref(), Some(expected), "{function}");
    span
}

/// `function` ran once and failed, with some `error.type`.
fn err_any(function: &str) -> SpanData {
    let span = span_of(function);
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{function}: {:?}",
        span.status
    );
    assert!(
        error_type(&span).is_some_and(|t| !t.is_empty()),
        "{function}"
    );
    span
}

/// The span of `function` was the current span where its body called `mark`.
fn covered(span: &SpanData, function: &str) {
    let marked = marks().lock().expect("marks").get(function).copied();
    assert_eq!(
        marked,
        Some(span.span_context.span_id()),
        "{function}: the body did not run inside the function's span"
    );
}

fn type_name_of<T: ?Sized>() -> &'static str {
    std::any::type_name::<T>()
}

// ===================================================================
// Synchronous shapes: names, arguments, generics, methods
// (instrument.rs, names.rs, targets.rs, levels.rs, fields.rs, parents.rs,
// follows_from.rs)
// ===================================================================
mod sync_basics {
    use std::fmt::Debug;

    use instrument_errors::instrument_errors;

    use super::{mark, ok, telemetry};

    // S001 names.rs `default_name`
    #[instrument_errors]
    fn default_name() {}

    // S002 names.rs `custom_name`
    #[instrument_errors(name = "my_name")]
    fn custom_name() {}

    // S003 instrument.rs `override_everything`: kind and name together
    #[instrument_errors(name = "my_other_fn", kind = client)]
    fn my_other_fn() {}

    // S004 instrument.rs `fields`: plain arguments, one owned
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn my_fn(arg1: usize, arg2: bool, arg3: String) -> usize {
        if arg2 {
            arg1 + arg3.len()
        } else {
            arg1
        }
    }

    pub struct UnDebug;

    // S005 instrument.rs `skip`: arguments that are not `Debug`
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn skip_fn(arg1: usize, _arg2: UnDebug, _arg3: UnDebug) -> usize {
        arg1
    }

    // S006 instrument.rs `generics`: type parameters, a bound inline and one
    // in a `where` clause
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn generic_fn<S, T: Debug>(arg1: S, arg2: T) -> String
    where
        S: Debug,
    {
        format!("{arg1:?}{arg2:?}")
    }

    #[derive(Debug)]
    pub struct Foo;

    impl Foo {
        // S007 instrument.rs `methods`: `&self` and an argument
        #[allow(clippy::unused_self)]
        #[instrument_errors]
        fn method_fn(&self, arg1: usize) -> usize {
            mark(f!("method_fn"));
            arg1
        }
    }

    // S008 instrument.rs `impl_trait_return_type`: `-> impl Iterator`
    #[instrument_errors]
    fn returns_impl_trait(x: usize) -> impl Iterator<Item = usize> {
        0..x
    }

    // S009 targets.rs: `pub fn` in a nested module
    pub mod my_mod {
        use instrument_errors::instrument_errors;

        #[instrument_errors]
        pub fn default_target() {}

        #[instrument_errors(name = "my_other_target")]
        pub fn custom_target() {}
    }

    // S010 fields.rs `fn_no_param`: constant attributes
    #[instrument_errors(attributes("foo" = "bar", "dsa" = true, "num" = 1))]
    fn fn_no_param() {}

    // S011 fields.rs `fn_expr_field`: an attribute computed from an argument
    #[instrument_errors(attributes("len" = s.len()))]
    fn fn_expr_field(s: &str) -> usize {
        s.len()
    }

    // S012 fields.rs `fn_string`: an owned argument borrowed by an attribute
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors(attributes("s" = s.as_str()))]
    fn fn_string(s: String) -> usize {
        s.len()
    }

    pub struct HasField {
        my_field: &'static str,
    }

    impl HasField {
        // S013 fields.rs `self_expr_field`
        #[instrument_errors(attributes("my_field" = self.my_field))]
        fn self_expr_field(&self) -> usize {
            self.my_field.len()
        }
    }

    // S014 parents.rs `with_explicit_parent`: a generic parameter bounded in
    // a `where` clause only
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn with_explicit_parent<P>(parent_span: P) -> Option<u64>
    where
        P: Into<Option<u64>>,
    {
        parent_span.into()
    }

    // S015 follows_from.rs `with_follows_from_sync`: nested `impl Trait` in
    // argument position
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn with_follows_from_sync(causes: impl IntoIterator<Item = impl Into<Option<u64>>>) -> usize {
        causes.into_iter().filter_map(Into::into).count()
    }

    // S016 levels.rs: each exception severity
    #[instrument_errors(log_level = trace)]
    fn trace() {}
    #[instrument_errors(log_level = debug)]
    fn debug() {}
    #[instrument_errors(log_level = info)]
    fn info() {}
    #[instrument_errors(log_level = warn)]
    fn warn() {}
    #[instrument_errors(log_level = error)]
    fn error() {}

    // S017 span kinds
    #[instrument_errors(kind = server)]
    fn server() {}
    #[instrument_errors(kind = producer)]
    fn producer() {}
    #[instrument_errors(kind = consumer)]
    fn consumer() {}

    // S018 instrument.rs `user_tracing_module`: a local module named like a
    // crate the expansion uses
    mod shadowing_crates {
        #[::instrument_errors::instrument_errors]
        pub fn my_fn() -> &'static str {
            instrument_errors::my_other_fn()
        }

        mod instrument_errors {
            pub fn my_other_fn() -> &'static str {
                "test"
            }
        }
    }

    #[test]
    fn all() {
        let _t = telemetry();
        default_name();
        custom_name();
        my_other_fn();
        assert_eq!(my_fn(1, true, "ab".to_owned()), 3);
        assert_eq!(skip_fn(4, UnDebug, UnDebug), 4);
        assert_eq!(generic_fn(Foo, false), "Foofalse");
        assert_eq!(Foo.method_fn(42), 42);
        assert_eq!(returns_impl_trait(3).sum::<usize>(), 3);
        my_mod::default_target();
        my_mod::custom_target();
        fn_no_param();
        assert_eq!(fn_expr_field("abc"), 3);
        assert_eq!(fn_string("abcd".to_owned()), 4);
        assert_eq!(HasField { my_field: "x" }.self_expr_field(), 1);
        assert_eq!(with_explicit_parent(Some(7)), Some(7));
        assert_eq!(with_follows_from_sync([Some(1), None, Some(3)]), 2);
        trace();
        debug();
        info();
        warn();
        error();
        server();
        producer();
        consumer();
        assert_eq!(shadowing_crates::my_fn(), "test");

        assert_eq!(ok(f!("default_name")).name, "default_name");
        assert_eq!(ok(f!("custom_name")).name, "my_name");
        assert_eq!(ok(f!("my_other_fn")).name, "my_other_fn");
        for function in [
            f!("my_fn"),
            f!("skip_fn"),
            f!("generic_fn"),
            f!("returns_impl_trait"),
            f!("with_explicit_parent"),
            f!("with_follows_from_sync"),
            f!("trace"),
            f!("debug"),
            f!("info"),
            f!("warn"),
            f!("error"),
            f!("server"),
            f!("producer"),
            f!("consumer"),
        ] {
            ok(function);
        }
        super::covered(&ok(f!("method_fn")), f!("method_fn"));
        ok(concat!(module_path!(), "::my_mod::default_target"));
        assert_eq!(
            ok(concat!(module_path!(), "::my_mod::custom_target")).name,
            "my_other_target"
        );
        ok(concat!(module_path!(), "::shadowing_crates::my_fn"));
        let s = ok(f!("fn_no_param"));
        assert_eq!(
            super::attr(&s, "foo")
                .map(|v| v.as_str().into_owned())
                .as_deref(),
            Some("bar")
        );
        assert_eq!(super::attr(&s, "dsa"), Some(true.into()));
        assert_eq!(super::attr(&s, "num"), Some(1_i64.into()));
        assert_eq!(
            super::attr(&ok(f!("fn_expr_field")), "len"),
            Some(3_i64.into())
        );
        assert_eq!(
            super::attr(&ok(f!("fn_string")), "s")
                .map(|v| v.as_str().into_owned())
                .as_deref(),
            Some("abcd")
        );
        assert_eq!(
            super::attr(&ok(f!("self_expr_field")), "my_field")
                .map(|v| v.as_str().into_owned())
                .as_deref(),
            Some("x")
        );
    }
}

// ===================================================================
// Destructured and special parameters (destructuring.rs and more)
// ===================================================================
mod params {
    use instrument_errors::instrument_errors;

    use super::{err, ok, telemetry, ShapeError};

    // S019 destructuring.rs `destructure_tuples`
    #[instrument_errors]
    fn tuples((arg1, arg2): (usize, usize)) -> usize {
        arg1 + arg2
    }

    // S020 destructuring.rs `destructure_nested_tuples`
    #[instrument_errors]
    fn nested_tuples(((arg1, arg2), (arg3, arg4)): ((usize, usize), (usize, usize))) -> usize {
        arg1 + arg2 + arg3 + arg4
    }

    // S021 destructuring.rs `destructure_refs`
    #[allow(clippy::trivially_copy_pass_by_ref)]
    #[instrument_errors]
    fn refs(&arg1: &usize) -> usize {
        arg1
    }

    pub struct Pair(usize, usize);

    // S022 destructuring.rs `destructure_tuple_structs`
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn tuple_structs(Pair(arg1, arg2): Pair) -> usize {
        arg1 + arg2
    }

    pub struct Named {
        bar: usize,
        baz: usize,
    }

    // S023 destructuring.rs `destructure_structs`
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn structs(
        Named {
            bar: arg1,
            baz: arg2,
        }: Named,
    ) -> usize {
        arg1 + arg2
    }

    pub struct Outer {
        bar: Inner,
        baz: (usize, usize),
        qux: NoDebug,
    }
    pub struct Inner((usize, usize));
    pub struct NoDebug;

    // S024 destructuring.rs `destructure_everything`
    #[instrument_errors]
    fn everything(
        &Outer {
            bar: Inner((arg1, arg2)),
            baz: (arg3, arg4),
            ..
        }: &Outer,
    ) -> usize {
        arg1 + arg2 + arg3 + arg4
    }

    // S025 `mut` parameters
    #[instrument_errors]
    fn mut_params(mut x: u8, mut v: Vec<u8>) -> Result<Vec<u8>, ShapeError> {
        x = x.checked_add(1).ok_or(ShapeError::Broken)?;
        v.push(x);
        Ok(v)
    }

    // S026 raw identifiers as function and parameter names
    #[instrument_errors]
    fn r#type(r#in: u8, r#fn: u8) -> u8 {
        r#in + r#fn
    }

    // S027 const generics
    #[instrument_errors]
    fn const_generic<const N: usize>(a: [u8; N]) -> Result<usize, ShapeError> {
        if N == 0 {
            return Err(ShapeError::Missing);
        }
        Ok(a.len())
    }

    // S028 a `_` parameter
    #[instrument_errors]
    fn wildcard(_: u8, y: u8) -> u8 {
        y
    }

    // S029 `impl Trait` argument and a `dyn` argument
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn impl_and_dyn(a: impl std::fmt::Display, b: &dyn std::fmt::Debug) -> String {
        format!("{a}{b:?}")
    }

    // S030 explicit and elided lifetimes, borrowed result
    #[instrument_errors]
    fn first_word<'a>(s: &'a str, _other: &str) -> Result<&'a str, ShapeError> {
        s.split(' ')
            .next()
            .filter(|w| !w.is_empty())
            .ok_or(ShapeError::Missing)
    }

    // S031 a mutable reference parameter (err.rs `err_mut`)
    #[instrument_errors]
    fn err_mut(out: &mut u8) -> Result<(), std::num::TryFromIntError> {
        *out = u8::try_from(1234)?;
        Ok(())
    }

    // S032 ret.rs `ret_mut`
    #[instrument_errors]
    fn ret_mut(a: &mut i32) -> i32 {
        *a *= 2;
        *a
    }

    // S033 a slice and a closure parameter
    #[instrument_errors]
    fn with_closure(xs: &[u8], f: impl Fn(u8) -> bool) -> usize {
        xs.iter().copied().filter(|x| f(*x)).count()
    }

    // S034 a higher-ranked `where` bound
    #[instrument_errors]
    fn higher_ranked<F>(f: F) -> usize
    where
        F: for<'a> Fn(&'a str) -> &'a str,
    {
        f("abc").len()
    }

    #[test]
    fn all() {
        let _t = telemetry();
        assert_eq!(tuples((1, 2)), 3);
        assert_eq!(nested_tuples(((1, 2), (3, 4))), 10);
        assert_eq!(refs(&5), 5);
        assert_eq!(tuple_structs(Pair(1, 2)), 3);
        assert_eq!(structs(Named { bar: 1, baz: 2 }), 3);
        let outer = Outer {
            bar: Inner((1, 2)),
            baz: (3, 4),
            qux: NoDebug,
        };
        assert_eq!(everything(&outer), 10);
        let NoDebug = &outer.qux;
        assert_eq!(mut_params(1, vec![0]).unwrap(), vec![0, 2]);
        assert_eq!(r#type(1, 2), 3);
        assert_eq!(const_generic([1, 2, 3]).unwrap(), 3);
        assert!(matches!(const_generic([]), Err(ShapeError::Missing)));
        assert_eq!(wildcard(1, 2), 2);
        assert_eq!(impl_and_dyn(1, &"x"), "1\"x\"");
        assert_eq!(first_word("hello world", "").unwrap(), "hello");
        let mut out = 0;
        assert!(err_mut(&mut out).is_err());
        let mut a = 2;
        assert_eq!(ret_mut(&mut a), 4);
        assert_eq!(with_closure(&[1, 2, 3], |x| x > 1), 2);
        assert_eq!(higher_ranked(|s| &s[1..]), 2);

        for function in [
            f!("tuples"),
            f!("nested_tuples"),
            f!("refs"),
            f!("tuple_structs"),
            f!("structs"),
            f!("everything"),
            f!("mut_params"),
            f!("wildcard"),
            f!("impl_and_dyn"),
            f!("first_word"),
            f!("ret_mut"),
            f!("with_closure"),
            f!("higher_ranked"),
        ] {
            ok(function);
        }
        assert_eq!(ok(f!("type")).name, "type");
        let spans = super::spans_of(f!("const_generic"));
        assert_eq!(spans.len(), 2);
        assert!(spans
            .iter()
            .any(|s| super::error_type(s).as_deref() == Some("gone")));
        err(f!("err_mut"), "std::num::TryFromIntError");
    }
}

// ===================================================================
// Synchronous results (err.rs, ret.rs, and issue 10 point 2)
// ===================================================================
mod sync_results {
    use std::fmt::Display;
    use std::num::{ParseIntError, TryFromIntError};

    use instrument_errors::instrument_errors;

    use super::{err, err_any, ok, telemetry, type_name_of, ShapeError};

    // S035 err.rs `err`
    #[instrument_errors]
    fn err_fn() -> Result<u8, TryFromIntError> {
        u8::try_from(1234)
    }

    // S036 err.rs `err_suspicious_else`
    #[instrument_errors]
    #[rustfmt::skip]
    #[deny(clippy::suspicious_else_formatting)]
    fn err_suspicious_else() -> Result<u8, TryFromIntError> {
        {}
        u8::try_from(1234)
    }

    // S037 err.rs `err_early_return`: `?`
    #[instrument_errors]
    fn err_early_return() -> Result<u8, TryFromIntError> {
        let num: u8 = u8::try_from(1234)?;
        Ok(num)
    }

    // S038 err.rs `impl_trait_return_type`: `Result<impl Trait, String>`
    // whose body never names `String`
    #[instrument_errors]
    fn returns_impl_trait(x: usize) -> Result<impl Iterator<Item = usize>, String> {
        Ok(0..x)
    }

    // S039 `Result<impl Trait, &'static str>`, failing
    #[instrument_errors]
    fn impl_trait_static_str(x: usize) -> Result<impl Iterator<Item = usize>, &'static str> {
        if x == 0 {
            return Err("empty");
        }
        Ok(0..x)
    }

    // S040 `Result<impl Trait, ()>`
    #[allow(clippy::result_unit_err)]
    #[instrument_errors]
    fn impl_trait_unit_err(x: usize) -> Result<impl Iterator<Item = usize>, ()> {
        if x == 0 {
            Err(())
        } else {
            Ok(0..x)
        }
    }

    // S041 `Result<impl Display, ParseIntError>`
    #[instrument_errors]
    fn impl_display_parse(s: &str) -> Result<impl Display, ParseIntError> {
        s.parse::<u8>()
    }

    // S042 `anyhow::Result<impl Display>`
    #[instrument_errors]
    fn impl_display_anyhow(s: &str) -> anyhow::Result<impl Display> {
        Ok(s.parse::<u8>()?)
    }

    // S043 a generic error type
    #[instrument_errors]
    fn generic_error<E: std::error::Error>(e: Option<E>) -> Result<u8, E> {
        match e {
            Some(e) => Err(e),
            None => Ok(1),
        }
    }

    // S044 `Result<Vec<impl Display>, E>`
    #[instrument_errors]
    fn vec_impl_display(n: u8) -> Result<Vec<impl Display>, ShapeError> {
        if n == 0 {
            return Err(ShapeError::Broken);
        }
        Ok((0..n).collect::<Vec<u8>>())
    }

    // S045 ret.rs `ret`
    #[instrument_errors]
    fn ret() -> i32 {
        42
    }

    // S046 ret.rs `ret_impl_type`: `-> impl Copy`
    #[instrument_errors]
    fn ret_impl_type() -> impl Copy {
        42
    }

    // S047 ret.rs `ret_and_ok`
    #[instrument_errors]
    fn ret_and_ok() -> Result<u8, TryFromIntError> {
        u8::try_from(123)
    }

    // S048 `io::Result`, an alias
    #[instrument_errors]
    fn io_result(path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    // S049 `Box<dyn Error + Send + Sync>`
    #[instrument_errors]
    fn boxed_error(s: &str) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
        Ok(s.parse::<u8>()?)
    }

    // S050 a local alias of `Result`
    type ShapeResult<T> = Result<T, ShapeError>;
    #[instrument_errors]
    fn local_alias(x: u8) -> ShapeResult<u8> {
        x.checked_sub(1).ok_or(ShapeError::Broken)
    }

    // S051 `Option` return (not a `Result`)
    #[instrument_errors]
    fn option_return(x: u8) -> Option<u8> {
        x.checked_sub(1)
    }

    // S052 a tuple with an `impl Trait` part
    #[instrument_errors]
    fn tuple_with_impl(x: u8) -> (impl Display, u8) {
        (x, x)
    }

    // S053 a boxed closure return
    #[instrument_errors]
    fn boxed_closure(k: u8) -> Box<dyn Fn(u8) -> u8> {
        Box::new(move |x| x + k)
    }

    // S054 `-> !`
    #[instrument_errors]
    fn diverge(msg: &str) -> ! {
        panic!("{msg}")
    }

    // S055 `ok_if`, `error_type` and `error_if` on the same kind of shape
    fn is_missing(e: &ShapeError) -> bool {
        matches!(e, ShapeError::Missing)
    }
    #[instrument_errors(ok_if = is_missing)]
    fn handled_missing() -> Result<u8, ShapeError> {
        Err(ShapeError::Missing)
    }
    #[instrument_errors(error_type = |_e: &ParseIntError| "bad_number")]
    fn parse_with_type(s: &str) -> Result<u8, ParseIntError> {
        s.parse()
    }
    #[instrument_errors(error_if = |v: &u8| (*v == 0).then_some("zero"))]
    fn zero_is_failure(v: u8) -> u8 {
        v
    }

    // S056 early `return` from nested control flow, loops with `break` values
    #[instrument_errors]
    fn control_flow(xs: &[i32]) -> Result<i32, ShapeError> {
        let mut i = 0;
        let found = loop {
            if i >= xs.len() {
                break None;
            }
            if xs[i] < 0 {
                return Err(ShapeError::Broken);
            }
            if xs[i] > 10 {
                break Some(xs[i]);
            }
            i += 1;
        };
        match found {
            Some(v) => Ok(v),
            None => Err(ShapeError::Missing),
        }
    }

    // S057 items and a local macro inside the body
    #[instrument_errors]
    fn items_in_body(x: u8) -> Result<u8, ShapeError> {
        macro_rules! double {
            ($e:expr) => {
                $e * 2
            };
        }
        fn helper(x: u8) -> Option<u8> {
            x.checked_add(1)
        }
        const LIMIT: u8 = 100;
        let y = helper(x).ok_or(ShapeError::Broken)?;
        if y > LIMIT {
            return Err(ShapeError::Broken);
        }
        Ok(double!(y))
    }

    // S058 a `thiserror` error and `?` conversion through `From`
    #[derive(Debug, thiserror::Error)]
    pub enum Wrapped {
        #[error("parse: {0}")]
        Parse(#[from] ParseIntError),
    }
    #[instrument_errors]
    fn thiserror_from(s: &str) -> Result<u8, Wrapped> {
        Ok(s.parse::<u8>()?)
    }

    #[test]
    fn all() {
        let _t = telemetry();
        assert!(err_fn().is_err());
        assert!(err_suspicious_else().is_err());
        assert!(err_early_return().is_err());
        assert_eq!(returns_impl_trait(3).unwrap().count(), 3);
        assert!(impl_trait_static_str(0).is_err());
        assert!(impl_trait_unit_err(0).is_err());
        assert!(impl_display_parse("x").is_err());
        assert_eq!(impl_display_anyhow("7").unwrap().to_string(), "7");
        assert!(generic_error(Some(ShapeError::Broken)).is_err());
        assert_eq!(vec_impl_display(2).unwrap().len(), 2);
        assert_eq!(ret(), 42);
        let _copy = ret_impl_type();
        assert_eq!(ret_and_ok().unwrap(), 123);
        assert!(io_result("/nonexistent/instrument-errors/shapes").is_err());
        assert!(boxed_error("x").is_err());
        assert!(local_alias(0).is_err());
        assert_eq!(option_return(0), None);
        assert_eq!(tuple_with_impl(3).1, 3);
        assert_eq!(boxed_closure(1)(2), 3);
        assert!(std::panic::catch_unwind(|| diverge("down")).is_err());
        assert!(handled_missing().is_err());
        assert!(parse_with_type("x").is_err());
        assert_eq!(zero_is_failure(0), 0);
        assert_eq!(control_flow(&[1, 20]).unwrap(), 20);
        assert_eq!(items_in_body(1).unwrap(), 4);
        assert!(thiserror_from("x").is_err());

        let try_from = "std::num::TryFromIntError";
        err(f!("err_fn"), try_from);
        err(f!("err_suspicious_else"), try_from);
        err(f!("err_early_return"), try_from);
        ok(f!("returns_impl_trait"));
        err(f!("impl_trait_static_str"), type_name_of::<&str>());
        err(f!("impl_trait_unit_err"), type_name_of::<()>());
        err(f!("impl_display_parse"), "std::num::ParseIntError");
        ok(f!("impl_display_anyhow"));
        err_any(f!("generic_error"));
        ok(f!("vec_impl_display"));
        ok(f!("ret"));
        ok(f!("ret_impl_type"));
        ok(f!("ret_and_ok"));
        err_any(f!("io_result"));
        err_any(f!("boxed_error"));
        err(f!("local_alias"), "broken");
        ok(f!("option_return"));
        ok(f!("tuple_with_impl"));
        ok(f!("boxed_closure"));
        err(f!("diverge"), instrument_errors::PANIC);
        ok(f!("handled_missing"));
        err(f!("parse_with_type"), "bad_number");
        err(f!("zero_is_failure"), "zero");
        ok(f!("control_flow"));
        ok(f!("items_in_body"));
        err(f!("thiserror_from"), type_name_of::<Wrapped>());
    }
}

// ===================================================================
// Receivers, `Self`, generic impls, traits (synchronous)
// ===================================================================
mod receivers {
    use std::fmt::Display;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::sync::Arc;

    use instrument_errors::instrument_errors;

    use super::{err, ok, telemetry, ShapeError};

    #[derive(Debug, Clone, Default)]
    pub struct Counter {
        n: u8,
    }

    impl Counter {
        // S059 `-> Self` constructor
        #[instrument_errors]
        fn new_counter() -> Self {
            Counter { n: 0 }
        }

        // S060 `-> Result<Self, E>`
        #[instrument_errors]
        fn try_new(n: u8) -> Result<Self, ShapeError> {
            if n > 10 {
                return Err(ShapeError::Broken);
            }
            Ok(Self { n })
        }

        // S061 `&mut self`
        #[instrument_errors]
        fn incr(&mut self) -> Result<u8, ShapeError> {
            self.n = self.n.checked_add(1).ok_or(ShapeError::Broken)?;
            Ok(self.n)
        }

        // S062 `self` by value
        #[allow(clippy::needless_pass_by_value)]
        #[instrument_errors]
        fn into_inner(self) -> u8 {
            self.n
        }

        // S063 `mut self`
        #[instrument_errors]
        fn reset(mut self) -> Self {
            self.n = 0;
            self
        }

        // S064 `self: Box<Self>`
        #[instrument_errors]
        fn boxed(self: Box<Self>) -> u8 {
            self.n
        }

        // S065 `self: Rc<Self>` and `self: Arc<Self>`
        #[allow(clippy::needless_pass_by_value)]
        #[instrument_errors]
        fn rc(self: Rc<Self>) -> u8 {
            self.n
        }
        #[allow(clippy::needless_pass_by_value)]
        #[instrument_errors]
        fn arc(self: Arc<Self>) -> u8 {
            self.n
        }

        // S066 `self: Pin<&mut Self>`
        #[instrument_errors]
        fn pinned(self: Pin<&mut Self>) -> u8 {
            self.n
        }

        // S067 explicit `self: &Self` and a borrowed result tied to it
        #[allow(clippy::needless_arbitrary_self_type)]
        #[instrument_errors]
        fn explicit_ref(self: &Self, _tag: &str) -> &u8 {
            &self.n
        }
    }

    pub struct Wrapper<T>(T);

    impl<T: Display> Wrapper<T> {
        // S068 a method of a generic impl, with its own parameter
        #[instrument_errors]
        fn show<U: Display>(&self, u: U) -> Result<String, ShapeError> {
            let s = format!("{}{u}", self.0);
            if s.is_empty() {
                Err(ShapeError::Missing)
            } else {
                Ok(s)
            }
        }
    }

    pub trait Describe {
        // S069 a trait's default method
        #[instrument_errors]
        fn describe(&self) -> Result<String, ShapeError> {
            Ok(self.label().to_owned())
        }

        fn label(&self) -> &str;

        // S070 a default method with `where Self: Sized`
        #[instrument_errors]
        fn boxed_label(self) -> Box<str>
        where
            Self: Sized,
        {
            self.label().into()
        }
    }

    impl Describe for Counter {
        // S071 a trait impl's method
        #[instrument_errors]
        fn label(&self) -> &str {
            "counter"
        }
    }

    // S072 a trait impl for a reference type with a lifetime
    pub trait Len {
        fn len_of(&self) -> Result<usize, ShapeError>;
    }
    impl<'a> Len for &'a str {
        #[instrument_errors]
        fn len_of(&self) -> Result<usize, ShapeError> {
            let s: &'a str = self;
            if s.is_empty() {
                Err(ShapeError::Missing)
            } else {
                Ok(s.len())
            }
        }
    }

    // S073 associated function of a generic trait with an associated type
    pub trait Parse: Sized {
        type Err;
        fn parse_it(s: &str) -> Result<Self, Self::Err>;
    }
    impl Parse for u8 {
        type Err = std::num::ParseIntError;
        #[instrument_errors]
        fn parse_it(s: &str) -> Result<Self, Self::Err> {
            s.parse()
        }
    }

    #[test]
    fn all() {
        let _t = telemetry();
        let mut c = Counter::new_counter();
        assert!(Counter::try_new(11).is_err());
        assert_eq!(c.incr().unwrap(), 1);
        assert_eq!(c.clone().into_inner(), 1);
        assert_eq!(c.clone().reset().n, 0);
        assert_eq!(Box::new(c.clone()).boxed(), 1);
        assert_eq!(Rc::new(c.clone()).rc(), 1);
        assert_eq!(Arc::new(c.clone()).arc(), 1);
        assert_eq!(Pin::new(&mut c).pinned(), 1);
        assert_eq!(*c.explicit_ref("t"), 1);
        assert_eq!(Wrapper(1).show(2).unwrap(), "12");
        assert_eq!(c.describe().unwrap(), "counter");
        assert_eq!(&*c.clone().boxed_label(), "counter");
        assert!("".len_of().is_err());
        assert!(<u8 as Parse>::parse_it("300").is_err());

        for function in [
            f!("new_counter"),
            f!("incr"),
            f!("into_inner"),
            f!("reset"),
            f!("boxed"),
            f!("rc"),
            f!("arc"),
            f!("pinned"),
            f!("explicit_ref"),
            f!("show"),
            f!("describe"),
            f!("boxed_label"),
        ] {
            ok(function);
        }
        // `label` is called by `describe` and `boxed_label`.
        assert_eq!(super::spans_of(f!("label")).len(), 2);
        err(f!("try_new"), "broken");
        err(f!("len_of"), "gone");
        err(f!("parse_it"), "std::num::ParseIntError");
    }
}

// ===================================================================
// Attributes, lints, inner attributes (instrument.rs `repro_2294`,
// async_fn.rs `repro_1613`, dead_code.rs, ui/pass/type_shadowing.rs)
// ===================================================================
mod attrs_and_lints {
    use instrument_errors::instrument_errors;

    use super::{ok, telemetry};

    // S074 other attributes around the function
    #[inline]
    #[must_use]
    #[doc = "documented"]
    #[cfg_attr(test, allow(clippy::inline_always))]
    #[instrument_errors]
    fn with_attrs(x: u8) -> u8 {
        x
    }

    // S075 attribute order: the attribute after other attributes
    #[allow(clippy::unnecessary_wraps)]
    #[cold]
    #[instrument_errors]
    fn cold_path(x: u8) -> Result<u8, super::ShapeError> {
        Ok(x)
    }

    // S076 `unsafe fn`
    #[instrument_errors]
    unsafe fn unsafe_fn(p: *const u8) -> u8 {
        // SAFETY: the caller passes a valid pointer.
        unsafe { *p }
    }

    // S077 `extern "C" fn`
    #[instrument_errors]
    extern "C" fn extern_c(a: u8, b: u8) -> u8 {
        a.wrapping_add(b)
    }

    // S078 `pub(crate)` visibility
    #[instrument_errors]
    pub(crate) fn crate_visible() -> u8 {
        1
    }

    // S137 instrument.rs `repro_2294`: an inner attribute in the body
    #[deny(unused_variables)]
    #[allow(clippy::mixed_attributes_style)]
    #[instrument_errors]
    fn repro_2294() {
        #![allow(unused_variables)]
        let i = 42;
    }

    // S138 async_fn.rs `repro_async_2294`
    #[deny(unused_variables)]
    #[allow(clippy::mixed_attributes_style, clippy::unused_async)]
    #[instrument_errors]
    async fn repro_async_2294() {
        #![allow(unused_variables)]
        let i = 42;
    }

    #[test]
    fn all() {
        let _t = telemetry();
        assert_eq!(with_attrs(1), 1);
        assert_eq!(cold_path(1).unwrap(), 1);
        let v = 7_u8;
        // SAFETY: `&v` is a valid pointer.
        assert_eq!(unsafe { unsafe_fn(std::ptr::from_ref(&v)) }, 7);
        assert_eq!(extern_c(1, 2), 3);
        assert_eq!(crate_visible(), 1);
        repro_2294();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(repro_async_2294());
        for function in [
            f!("repro_2294"),
            f!("repro_async_2294"),
            f!("with_attrs"),
            f!("cold_path"),
            f!("unsafe_fn"),
            f!("extern_c"),
            f!("crate_visible"),
        ] {
            ok(function);
        }
    }
}

// ===================================================================
// `async fn` (async_fn.rs, err.rs, ret.rs, follows_from.rs)
// ===================================================================
mod async_fns {
    use std::convert::Infallible;
    use std::fmt::Display;
    use std::num::TryFromIntError;

    use instrument_errors::instrument_errors;
    use tokio::task::yield_now;

    use super::{covered, err, mark, ok, span_of, telemetry, type_name_of, ShapeError};

    // S079 async_fn.rs `test_async_fn`: `Result<(), ()>`
    #[allow(clippy::result_unit_err)]
    #[instrument_errors]
    async fn test_async_fn(polls: usize) -> Result<(), ()> {
        for _ in 0..polls {
            yield_now().await;
        }
        mark(f!("test_async_fn"));
        if polls == 0 {
            Err(())
        } else {
            Ok(())
        }
    }

    // S080 async_fn.rs `test_ret_impl_trait` (tracing#1615)
    #[allow(clippy::result_unit_err)]
    #[instrument_errors]
    async fn test_ret_impl_trait(n: i32) -> Result<impl Iterator<Item = i32>, ()> {
        yield_now().await;
        mark(f!("test_ret_impl_trait"));
        Ok((0..10).filter(move |x| *x < n))
    }

    // S081 async_fn.rs `test_ret_impl_trait_err`: `&'static str` error
    #[instrument_errors]
    async fn test_ret_impl_trait_err(n: i32) -> Result<impl Iterator<Item = i32>, &'static str> {
        yield_now().await;
        if n < 0 {
            return Err("negative");
        }
        Ok((0..10).filter(move |x| *x < n))
    }

    // S082 async_fn.rs `test_async_fn_empty`
    #[allow(clippy::unused_async)]
    #[instrument_errors]
    async fn test_async_fn_empty() {}

    // S083 async_fn.rs `test_async_unsafe_fn_empty`
    #[allow(clippy::unused_async)]
    #[instrument_errors]
    async unsafe fn test_async_unsafe_fn_empty() {}

    // S084 async_fn.rs `repro_1613`
    #[instrument_errors]
    // LOAD-BEARING `#[rustfmt::skip]` (tracing#1613)
    #[rustfmt::skip]
    #[deny(clippy::suspicious_else_formatting)]
    async fn repro_1613(var: bool) {
        yield_now().await;
        println!(
            "{}",
            if var { "true" } else { "false" }
        );
    }

    // S085 async_fn.rs `repro_1613_2`: a body of comments only
    #[allow(clippy::unused_async)]
    #[instrument_errors]
    #[deny(clippy::suspicious_else_formatting)]
    async fn repro_1613_2() {
        // hello world
        // else
    }

    // S086 async_fn.rs `async_fn_nested`: instrumented async fns awaiting each
    // other
    #[instrument_errors]
    async fn test_async_fns_nested() -> Result<u8, ShapeError> {
        let v = test_async_fns_nested_other().await?;
        mark(f!("test_async_fns_nested"));
        Ok(v)
    }
    #[instrument_errors]
    async fn test_async_fns_nested_other() -> Result<u8, ShapeError> {
        yield_now().await;
        mark(f!("test_async_fns_nested_other"));
        Ok(1)
    }

    // S087 err.rs `err_async`
    #[instrument_errors]
    async fn err_async(polls: usize) -> Result<u8, TryFromIntError> {
        for _ in 0..polls {
            yield_now().await;
        }
        mark(f!("err_async"));
        u8::try_from(1234)
    }

    // S088 err.rs `err_mut_async`
    #[instrument_errors]
    async fn err_mut_async(polls: usize, out: &mut u8) -> Result<(), TryFromIntError> {
        for _ in 0..polls {
            yield_now().await;
        }
        *out = u8::try_from(1234)?;
        Ok(())
    }

    // S089 ret.rs `ret_async`
    #[instrument_errors]
    async fn ret_async() -> i32 {
        yield_now().await;
        42
    }

    // S090 follows_from.rs `with_follows_from_async`
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    async fn with_follows_from_async(
        causes: impl IntoIterator<Item = impl Into<Option<u64>>>,
    ) -> usize {
        yield_now().await;
        causes.into_iter().filter_map(Into::into).count()
    }

    // S091 borrowed arguments with elided and explicit lifetimes
    #[instrument_errors]
    async fn borrowed<'a>(a: &'a str, _b: &str, c: &str) -> Result<&'a str, ShapeError> {
        yield_now().await;
        mark(f!("borrowed"));
        if c.is_empty() {
            Err(ShapeError::Missing)
        } else {
            Ok(a)
        }
    }

    // S092 generic with a `where` clause and `impl Trait` argument
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    async fn generic_async<T>(x: T, y: impl Display + Send) -> Result<String, ShapeError>
    where
        T: Display + Send + 'static,
    {
        yield_now().await;
        Ok(format!("{x}{y}"))
    }

    // S093 `Result<impl Display, E>` with a generic `E`
    #[instrument_errors]
    async fn impl_display_generic_err<E: std::error::Error>(
        e: Option<E>,
    ) -> Result<impl Display, E> {
        yield_now().await;
        match e {
            Some(e) => Err(e),
            None => Ok(1_u8),
        }
    }

    // S094 `Result<Vec<impl Display>, E>`
    #[instrument_errors]
    async fn vec_impl_display_async(n: u8) -> Result<Vec<impl Display>, ShapeError> {
        yield_now().await;
        if n == 0 {
            return Err(ShapeError::Broken);
        }
        Ok((0..n).collect::<Vec<u8>>())
    }

    // S095 `anyhow::Result<impl Display>`
    #[instrument_errors]
    async fn anyhow_impl(s: &str) -> anyhow::Result<impl Display> {
        yield_now().await;
        Ok(s.parse::<u8>()?)
    }

    // S096 `Infallible` error
    #[instrument_errors]
    async fn infallible() -> Result<u8, Infallible> {
        yield_now().await;
        Ok(1)
    }

    // S097 destructured and `mut` parameters in an `async fn`
    #[instrument_errors]
    async fn async_destructure((a, b): (u8, u8), mut acc: Vec<u8>) -> Vec<u8> {
        yield_now().await;
        acc.push(a);
        acc.push(b);
        acc
    }

    // S098 const generic `async fn`
    #[instrument_errors]
    async fn async_const<const N: usize>(a: [u8; N]) -> Result<usize, ShapeError> {
        yield_now().await;
        mark(f!("async_const"));
        if N == 0 {
            Err(ShapeError::Missing)
        } else {
            Ok(a.len())
        }
    }

    // S099 arguments `ok_if` and `error_type` on an `async fn`
    fn is_missing(e: &ShapeError) -> bool {
        matches!(e, ShapeError::Missing)
    }
    #[instrument_errors(ok_if = is_missing, name = "async.handled")]
    async fn async_handled() -> Result<u8, ShapeError> {
        yield_now().await;
        Err(ShapeError::Missing)
    }

    // S100 `return` and `?` inside nested blocks of an `async fn`
    #[instrument_errors]
    async fn async_early_return(x: Option<u8>) -> Result<u8, ShapeError> {
        let v = x.ok_or(ShapeError::Missing)?;
        yield_now().await;
        if v == 0 {
            return Err(ShapeError::Broken);
        }
        mark(f!("async_early_return"));
        Ok(v)
    }

    #[tokio::test]
    async fn all() {
        let _t = telemetry();
        assert!(test_async_fn(0).await.is_err());
        assert_eq!(test_ret_impl_trait(3).await.unwrap().count(), 3);
        assert!(test_ret_impl_trait_err(-1).await.is_err());
        test_async_fn_empty().await;
        // SAFETY: the function has no safety requirement.
        unsafe { test_async_unsafe_fn_empty() }.await;
        repro_1613(true).await;
        repro_1613_2().await;
        assert_eq!(test_async_fns_nested().await.unwrap(), 1);
        assert!(err_async(2).await.is_err());
        let mut out = 0;
        assert!(err_mut_async(2, &mut out).await.is_err());
        assert_eq!(ret_async().await, 42);
        assert_eq!(with_follows_from_async([Some(1), None]).await, 1);
        assert_eq!(borrowed("a", "b", "c").await.unwrap(), "a");
        assert_eq!(generic_async(1, 2).await.unwrap(), "12");
        assert_eq!(
            impl_display_generic_err::<ShapeError>(None)
                .await
                .unwrap()
                .to_string(),
            "1"
        );
        assert!(vec_impl_display_async(0).await.is_err());
        assert!(anyhow_impl("x").await.is_err());
        assert_eq!(infallible().await.unwrap(), 1);
        assert_eq!(async_destructure((1, 2), vec![]).await, vec![1, 2]);
        assert_eq!(async_const([1, 2]).await.unwrap(), 2);
        assert!(async_handled().await.is_err());
        assert_eq!(async_early_return(Some(3)).await.unwrap(), 3);

        covered(
            &err(f!("test_async_fn"), type_name_of::<()>()),
            f!("test_async_fn"),
        );
        covered(&ok(f!("test_ret_impl_trait")), f!("test_ret_impl_trait"));
        err(f!("test_ret_impl_trait_err"), type_name_of::<&str>());
        ok(f!("test_async_fn_empty"));
        ok(f!("test_async_unsafe_fn_empty"));
        ok(f!("repro_1613"));
        ok(f!("repro_1613_2"));
        let outer = ok(f!("test_async_fns_nested"));
        let inner = ok(f!("test_async_fns_nested_other"));
        covered(&outer, f!("test_async_fns_nested"));
        covered(&inner, f!("test_async_fns_nested_other"));
        assert_eq!(inner.parent_span_id, outer.span_context.span_id());
        let try_from = "std::num::TryFromIntError";
        covered(&err(f!("err_async"), try_from), f!("err_async"));
        err(f!("err_mut_async"), try_from);
        ok(f!("ret_async"));
        ok(f!("with_follows_from_async"));
        covered(&ok(f!("borrowed")), f!("borrowed"));
        ok(f!("generic_async"));
        ok(f!("impl_display_generic_err"));
        err(f!("vec_impl_display_async"), "broken");
        super::err_any(f!("anyhow_impl"));
        ok(f!("infallible"));
        ok(f!("async_destructure"));
        covered(&ok(f!("async_const")), f!("async_const"));
        assert_eq!(ok(f!("async_handled")).name, "async.handled");
        covered(&ok(f!("async_early_return")), f!("async_early_return"));
        assert_eq!(
            span_of(f!("err_async")).parent_span_id,
            opentelemetry::trace::SpanId::INVALID
        );
    }
}

// ===================================================================
// Async methods: inherent, native `async fn` in traits, `#[async_trait]`
// (async_fn.rs `async_fn_with_async_trait*`, `out_of_scope_fields`)
// ===================================================================
mod async_methods {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use async_trait::async_trait;
    use instrument_errors::instrument_errors;
    use tokio::task::yield_now;

    use super::{covered, err, mark, ok, spans_of, telemetry, ShapeError};

    #[derive(Clone, Debug, Default)]
    pub struct TestImpl {
        n: usize,
    }

    impl TestImpl {
        fn foo(&self) -> usize {
            self.n + 1
        }

        // S101 inherent `async fn` on `&self`
        #[instrument_errors]
        async fn inherent_ref(&self) -> Result<usize, ShapeError> {
            yield_now().await;
            mark(f!("inherent_ref"));
            Ok(self.n)
        }

        // S102 inherent `async fn` on `&mut self`
        #[instrument_errors]
        async fn inherent_mut(&mut self, by: usize) -> Result<usize, ShapeError> {
            yield_now().await;
            self.n = self.n.checked_add(by).ok_or(ShapeError::Broken)?;
            Ok(self.n)
        }

        // S103 inherent `async fn` taking `self`
        #[instrument_errors]
        async fn inherent_owned(self) -> usize {
            yield_now().await;
            self.n
        }

        // S104 inherent `async fn` returning `Self`
        #[instrument_errors]
        async fn build(n: usize) -> Self {
            yield_now().await;
            Self { n }
        }

        // S105 async_fn.rs `sync_fun`: a sync fn returning a boxed future
        // borrowing `self`, with a statement before the `Box::pin`
        #[instrument_errors(attributes("self" = std::any::type_name::<Self>()))]
        fn sync_fun(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            let val = self.clone();
            Box::pin(async move {
                yield_now().await;
                mark(f!("sync_fun"));
                let _ = val;
            })
        }
    }

    #[async_trait]
    pub trait TestA {
        async fn foo_a(&mut self, v: usize);
    }
    #[async_trait]
    pub trait TestB {
        async fn bar(&self) -> Result<usize, ShapeError>;
    }
    #[async_trait]
    pub trait NoAwait {
        async fn no_await(&self) -> u8;
    }

    // S150 `#[async_trait]`: a body without `.await`
    #[async_trait]
    impl NoAwait for TestImpl {
        #[allow(clippy::unused_async)]
        #[instrument_errors]
        async fn no_await(&self) -> u8 {
            1
        }
    }

    #[async_trait]
    pub trait TestMutSelf {
        async fn call_with_mut_self(&mut self);
    }

    // S110 async_fn.rs `call_with_mut_self`: `#[async_trait]`, an empty
    // one-line body (what rustfmt writes), under `deny(warnings)`
    #[async_trait]
    impl TestMutSelf for TestImpl {
        #[allow(clippy::unused_async)]
        #[instrument_errors(attributes("self" = std::any::type_name::<Self>()))]
        async fn call_with_mut_self(&mut self) {}
    }

    #[async_trait]
    pub trait TestCall {
        async fn call(&mut self, v: usize) -> usize;
        async fn call_with_self(&self);
    }

    // S106 `#[async_trait]`: `&mut self` and an argument
    #[async_trait]
    impl TestA for TestImpl {
        #[instrument_errors]
        async fn foo_a(&mut self, v: usize) {
            yield_now().await;
            mark(f!("foo_a"));
            self.n = v;
        }
    }

    // S107 `#[async_trait]`: `&self` returning a `Result`
    #[async_trait]
    impl TestB for TestImpl {
        #[instrument_errors]
        async fn bar(&self) -> Result<usize, ShapeError> {
            yield_now().await;
            mark(f!("bar"));
            if self.n == 0 {
                Err(ShapeError::Missing)
            } else {
                Ok(self.n)
            }
        }
    }

    #[async_trait]
    impl TestCall for TestImpl {
        // S108 async_fn.rs `async_fn_with_async_trait_and_fields_expressions`
        #[instrument_errors(attributes("val" = self.foo(), "val2" = Self::clone(self).foo(), "test" = v + 5))]
        async fn call(&mut self, v: usize) -> usize {
            yield_now().await;
            v
        }

        // S109 `#[async_trait]` calling a sync fn returning a boxed future
        #[instrument_errors(attributes("self" = std::any::type_name::<Self>()))]
        async fn call_with_self(&self) {
            self.sync_fun().await;
            mark(f!("call_with_self"));
        }
    }

    // S111 native `async fn` in a trait, default and impl
    pub trait Native {
        async fn native_impl(&self) -> Result<u8, ShapeError>;

        #[instrument_errors]
        async fn native_default(&self) -> Result<u8, ShapeError> {
            yield_now().await;
            mark(f!("native_default"));
            self.native_impl().await
        }
    }
    impl Native for TestImpl {
        #[instrument_errors]
        async fn native_impl(&self) -> Result<u8, ShapeError> {
            yield_now().await;
            u8::try_from(self.n).map_err(|_| ShapeError::Broken)
        }
    }

    pub struct Thing {
        metrics: Arc<()>,
    }

    impl Thing {
        // S112 async_fn.rs `out_of_scope_fields` (tracing#1296)
        #[instrument_errors]
        fn call_thing(&mut self, _req: ()) -> Pin<Box<dyn Future<Output = Arc<()>> + Send + Sync>> {
            let metrics = self.metrics.clone();
            Box::pin(async move {
                yield_now().await;
                mark(f!("call_thing"));
                metrics
            })
        }
    }

    #[tokio::test]
    async fn all() {
        let _t = telemetry();
        let mut t = TestImpl::build(0).await;
        assert_eq!(t.inherent_ref().await.unwrap(), 0);
        assert_eq!(t.inherent_mut(2).await.unwrap(), 2);
        assert_eq!(t.clone().inherent_owned().await, 2);
        t.foo_a(0).await;
        assert!(t.bar().await.is_err());
        assert_eq!(t.call(1).await, 1);
        t.call_with_self().await;
        assert_eq!(t.no_await().await, 1);
        t.call_with_mut_self().await;
        assert_eq!(t.native_default().await.unwrap(), 0);
        let mut thing = Thing {
            metrics: Arc::new(()),
        };
        let _metrics: Arc<()> = thing.call_thing(()).await;

        ok(f!("build"));
        covered(&ok(f!("inherent_ref")), f!("inherent_ref"));
        ok(f!("inherent_mut"));
        ok(f!("inherent_owned"));
        covered(&ok(f!("foo_a")), f!("foo_a"));
        covered(&err(f!("bar"), "gone"), f!("bar"));
        let call = ok(f!("call"));
        assert_eq!(super::attr(&call, "val"), Some(1_i64.into()));
        assert_eq!(super::attr(&call, "val2"), Some(1_i64.into()));
        assert_eq!(super::attr(&call, "test"), Some(6_i64.into()));
        let with_self = ok(f!("call_with_self"));
        covered(&with_self, f!("call_with_self"));
        let sync_fun = ok(f!("sync_fun"));
        covered(&sync_fun, f!("sync_fun"));
        assert_eq!(sync_fun.parent_span_id, with_self.span_context.span_id());
        let default = ok(f!("native_default"));
        covered(&default, f!("native_default"));
        assert_eq!(
            ok(f!("native_impl")).parent_span_id,
            default.span_context.span_id()
        );
        covered(&ok(f!("call_thing")), f!("call_thing"));
        ok(f!("no_await"));
        let mut_self = ok(f!("call_with_mut_self"));
        assert!(super::attr(&mut_self, "self").is_some_and(|v| v.to_string().ends_with("TestImpl")));
        assert_eq!(spans_of(f!("call_with_self")).len(), 1);
    }
}

// ===================================================================
// Functions returning futures (async_fn.rs `repro_1831*`,
// `manual_impl_future`, `manual_box_pin`; issue 10 points 3, 4, 5)
// ===================================================================
mod returned_futures {
    use std::convert::Infallible;
    use std::fmt::Display;
    use std::future::{Future, IntoFuture};
    use std::pin::Pin;

    use futures::future::{BoxFuture, FutureExt as _, LocalBoxFuture};
    use instrument_errors::instrument_errors;
    use tokio::task::yield_now;

    use super::{covered, err, mark, ok, telemetry, ShapeError};

    // S113 async_fn.rs `repro_1831`: `Box::pin(async move {})` tail
    #[instrument_errors]
    #[deny(unused_braces)]
    fn repro_1831() -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async move {
            yield_now().await;
            mark(f!("repro_1831"));
        })
    }

    // S149 async_fn.rs `repro_1831` exactly: an empty `async move {}`
    #[instrument_errors]
    #[deny(unused_braces)]
    fn repro_1831_exact() -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async move {})
    }

    // S114 async_fn.rs `repro_1831_2`: `impl Future<Output = Result<..>>`
    #[instrument_errors]
    #[deny(unused_braces)]
    #[allow(clippy::manual_async_fn)]
    fn repro_1831_2() -> impl Future<Output = Result<(), Infallible>> {
        async {
            yield_now().await;
            mark(f!("repro_1831_2"));
            Ok(())
        }
    }

    // S115 async_fn.rs `manual_impl_future`
    #[allow(clippy::manual_async_fn)]
    #[instrument_errors]
    fn manual_impl_future() -> impl Future<Output = ()> {
        async {
            yield_now().await;
            mark(f!("manual_impl_future"));
        }
    }

    // S116 async_fn.rs `manual_box_pin`
    #[instrument_errors]
    fn manual_box_pin() -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async {
            yield_now().await;
            mark(f!("manual_box_pin"));
        })
    }

    // S117 `BoxFuture` alias with a `Box::pin(async move ..)` tail, failing
    #[instrument_errors]
    fn box_future_alias(n: u32) -> BoxFuture<'static, Result<u32, ShapeError>> {
        Box::pin(async move {
            yield_now().await;
            mark(f!("box_future_alias"));
            if n == 0 {
                Err(ShapeError::Broken)
            } else {
                Ok(n)
            }
        })
    }

    // S118 a local future alias
    type Fut<T> = Pin<Box<dyn Future<Output = T> + Send>>;
    #[instrument_errors]
    fn local_alias(n: u32) -> Fut<Result<u32, ShapeError>> {
        Box::pin(async move {
            yield_now().await;
            mark(f!("local_alias"));
            n.checked_sub(1).ok_or(ShapeError::Missing)
        })
    }

    // S119 `BoxFuture` built with `.boxed()`: the error must be recorded
    #[instrument_errors]
    fn boxed_tail() -> BoxFuture<'static, Result<u8, ShapeError>> {
        async move {
            yield_now().await;
            mark(f!("boxed_tail"));
            Err(ShapeError::Broken)
        }
        .boxed()
    }

    // S120 `LocalBoxFuture` built with `.boxed_local()`
    #[instrument_errors]
    fn boxed_local_tail(n: u8) -> LocalBoxFuture<'static, Result<u8, ShapeError>> {
        async move {
            yield_now().await;
            mark(f!("boxed_local_tail"));
            Ok(n)
        }
        .boxed_local()
    }

    // S121 `impl Future` from `std::future::ready`
    #[instrument_errors]
    fn ready_future(n: u32) -> impl Future<Output = u32> {
        std::future::ready(n)
    }

    // S122 `Pin<Box<dyn Future + Send>>` from `.boxed()`
    #[instrument_errors]
    fn pinned_boxed(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
        async move {
            yield_now().await;
            mark(f!("pinned_boxed"));
            n
        }
        .boxed()
    }

    // S123 a `Box::pin(..) as Pin<Box<dyn Future>>` tail
    #[instrument_errors]
    fn cast_tail(n: u8) -> Pin<Box<dyn Future<Output = u8>>> {
        Box::pin(async move {
            yield_now().await;
            mark(f!("cast_tail"));
            n
        }) as Pin<Box<dyn Future<Output = u8>>>
    }

    // S124 `impl Future<Output = Result<impl Display, E>>`
    #[allow(clippy::manual_async_fn)]
    #[instrument_errors]
    fn impl_future_impl_display(s: &str) -> impl Future<Output = Result<impl Display, ShapeError>> {
        let parsed = s.parse::<u8>();
        async move {
            yield_now().await;
            mark(f!("impl_future_impl_display"));
            parsed.map_err(|_| ShapeError::Broken)
        }
    }

    // S125 `impl Future + Send + 'a` borrowing an argument
    #[allow(clippy::manual_async_fn)]
    #[instrument_errors]
    fn borrowing_future(s: &str) -> impl Future<Output = Result<usize, ShapeError>> + Send + '_ {
        async move {
            yield_now().await;
            mark(f!("borrowing_future"));
            if s.is_empty() {
                Err(ShapeError::Missing)
            } else {
                Ok(s.len())
            }
        }
    }

    // S126 `impl IntoFuture`
    #[instrument_errors]
    fn into_future(n: u8) -> impl IntoFuture<Output = u8> {
        async move {
            yield_now().await;
            mark(f!("into_future"));
            n
        }
    }

    // S127 a future chosen by a `match` (no single tail `async` block)
    #[instrument_errors]
    fn chosen_future(n: u8) -> BoxFuture<'static, Result<u8, ShapeError>> {
        match n {
            0 => std::future::ready(Err(ShapeError::Missing)).boxed(),
            n => async move {
                yield_now().await;
                Ok(n)
            }
            .boxed(),
        }
    }

    // S128 a future built by another (plain) function
    #[allow(clippy::manual_async_fn)]
    fn make(n: u8) -> impl Future<Output = Result<u8, ShapeError>> {
        async move {
            yield_now().await;
            mark(f!("built_elsewhere"));
            n.checked_sub(1).ok_or(ShapeError::Broken)
        }
    }
    #[instrument_errors]
    fn built_elsewhere(n: u8) -> impl Future<Output = Result<u8, ShapeError>> {
        make(n)
    }

    #[tokio::test]
    async fn all() {
        let _t = telemetry();
        repro_1831().await;
        repro_1831_exact().await;
        repro_1831_2().await.unwrap();
        manual_impl_future().await;
        manual_box_pin().await;
        assert!(box_future_alias(0).await.is_err());
        assert!(local_alias(0).await.is_err());
        assert!(boxed_tail().await.is_err());
        assert_eq!(boxed_local_tail(3).await.unwrap(), 3);
        assert_eq!(ready_future(4).await, 4);
        assert_eq!(pinned_boxed(5).await, 5);
        assert_eq!(cast_tail(6).await, 6);
        assert_eq!(
            impl_future_impl_display("7").await.unwrap().to_string(),
            "7"
        );
        assert_eq!(borrowing_future("ab").await.unwrap(), 2);
        assert_eq!(into_future(8).await, 8);
        assert!(chosen_future(0).await.is_err());
        assert!(built_elsewhere(0).await.is_err());

        for function in [
            f!("repro_1831"),
            f!("repro_1831_2"),
            f!("manual_impl_future"),
            f!("manual_box_pin"),
            f!("boxed_local_tail"),
            f!("pinned_boxed"),
            f!("cast_tail"),
            f!("impl_future_impl_display"),
            f!("borrowing_future"),
            f!("into_future"),
        ] {
            covered(&ok(function), function);
        }
        ok(f!("repro_1831_exact"));
        covered(
            &err(f!("box_future_alias"), "broken"),
            f!("box_future_alias"),
        );
        covered(&err(f!("local_alias"), "gone"), f!("local_alias"));
        covered(&err(f!("boxed_tail"), "broken"), f!("boxed_tail"));
        ok(f!("ready_future"));
        err(f!("chosen_future"), "gone");
        covered(&err(f!("built_elsewhere"), "broken"), f!("built_elsewhere"));
    }
}

// ===================================================================
// Hygiene: items and traits in scope (ui/pass/type_shadowing.rs,
// tracing#3306; issue 10 points 6 and 7)
// ===================================================================
mod hygiene {
    use std::future::Future;

    use instrument_errors::instrument_errors;
    use tokio::task::yield_now;

    use super::{covered, err, mark, ok, telemetry, ShapeError};

    type Foo = ();
    enum Bar {
        Foo,
    }

    // S129 ui/pass/type_shadowing.rs `this_is_fine`: a glob import in the
    // body shadows the return type
    #[allow(clippy::enum_glob_use)]
    #[instrument_errors]
    fn this_is_fine() -> Foo {
        use Bar::*;
        let _ = Foo;
    }

    // S130 the same in an `async fn`
    #[allow(clippy::enum_glob_use)]
    #[instrument_errors]
    async fn this_is_fine_async() -> Foo {
        use Bar::*;
        yield_now().await;
        mark(f!("this_is_fine_async"));
        let _ = Foo;
    }

    // S131 the same in an `impl Future` function
    #[allow(clippy::manual_async_fn, clippy::enum_glob_use)]
    #[instrument_errors]
    fn this_is_fine_impl_future() -> impl Future<Output = Foo> {
        use Bar::*;
        async move {
            yield_now().await;
            mark(f!("this_is_fine_impl_future"));
            let _ = Foo;
        }
    }

    // `tracing::Instrument`, `opentelemetry`'s and `futures`' `FutureExt`
    // in scope: their methods must not capture the expansion's calls.
    mod traits_in_scope {
        use futures::FutureExt;
        use instrument_errors::instrument_errors;
        use opentelemetry::trace::FutureExt as OtelFutureExt;
        use opentelemetry::Context;
        use tracing::Instrument;

        use super::super::{mark, ShapeError};

        async fn inner() -> u8 {
            tokio::task::yield_now().await;
            1
        }

        // S132 `async fn` with `tracing::Instrument` in scope
        #[instrument_errors]
        pub async fn with_instrument() -> Result<u8, ShapeError> {
            let v = inner().instrument(tracing::info_span!("inner")).await;
            mark(f!("with_instrument"));
            Ok(v)
        }

        // S133 `async fn` with `futures::FutureExt` in scope
        #[instrument_errors]
        pub async fn with_futures_ext() -> Result<u8, ShapeError> {
            let v = inner().boxed().await;
            mark(f!("with_futures_ext"));
            if v == 1 {
                Err(ShapeError::Broken)
            } else {
                Ok(v)
            }
        }

        // S134 `async fn` with `opentelemetry::trace::FutureExt` in scope
        #[instrument_errors]
        pub async fn with_otel_ext() -> u8 {
            let v = inner().with_context(Context::current()).await;
            mark(f!("with_otel_ext"));
            v
        }
    }

    // S135 a user trait implemented for every type whose method names are
    // common words
    pub trait Everything {
        fn start(&self, a: u8, b: u8) -> u8 {
            a + b
        }
        fn run(&self) -> u8 {
            0
        }
        fn instrument(&self) -> u8 {
            0
        }
    }
    impl<T: ?Sized> Everything for T {}

    #[instrument_errors]
    fn with_everything(x: u8) -> Result<u8, ShapeError> {
        x.checked_add(().start(1, 2) + ().run() + ().instrument())
            .ok_or(ShapeError::Broken)
    }

    #[instrument_errors]
    async fn with_everything_async(x: u8) -> Result<u8, ShapeError> {
        yield_now().await;
        mark(f!("with_everything_async"));
        x.checked_add(().start(1, 2)).ok_or(ShapeError::Broken)
    }

    // S136 locals named like the expansion's own
    #[allow(clippy::used_underscore_binding)]
    #[instrument_errors]
    fn shadow_locals(__ie_body: u8, __ie_started: u8) -> u8 {
        static __IE_SITE: u8 = 1;
        let __ie_output = __ie_body + __ie_started;
        __ie_output + __IE_SITE
    }

    #[tokio::test]
    async fn all() {
        let _t = telemetry();
        this_is_fine();
        this_is_fine_async().await;
        this_is_fine_impl_future().await;
        assert_eq!(traits_in_scope::with_instrument().await.unwrap(), 1);
        assert!(traits_in_scope::with_futures_ext().await.is_err());
        assert_eq!(traits_in_scope::with_otel_ext().await, 1);
        assert_eq!(with_everything(1).unwrap(), 4);
        assert_eq!(with_everything_async(1).await.unwrap(), 4);
        assert_eq!(shadow_locals(1, 2), 4);

        ok(f!("this_is_fine"));
        covered(&ok(f!("this_is_fine_async")), f!("this_is_fine_async"));
        covered(
            &ok(f!("this_is_fine_impl_future")),
            f!("this_is_fine_impl_future"),
        );
        let m = concat!(module_path!(), "::traits_in_scope::");
        let with_instrument = format!("{m}with_instrument");
        covered(&ok(&with_instrument), &with_instrument);
        let with_futures_ext = format!("{m}with_futures_ext");
        covered(&err(&with_futures_ext, "broken"), &with_futures_ext);
        let with_otel_ext = format!("{m}with_otel_ext");
        covered(&ok(&with_otel_ext), &with_otel_ext);
        ok(f!("with_everything"));
        covered(
            &ok(f!("with_everything_async")),
            f!("with_everything_async"),
        );
        ok(f!("shadow_locals"));
    }
}

// ===================================================================
// More shapes Rust users write: return-position `impl Trait` in traits,
// spawned futures, boxed errors, associated types
// ===================================================================
mod more {
    use std::future::Future;

    use instrument_errors::instrument_errors;
    use tokio::task::yield_now;

    use super::{covered, err, err_any, mark, ok, telemetry, ShapeError};

    // S139 a trait method returning `impl Future + Send` (RPITIT), and its
    // impl
    pub trait Fetch {
        fn fetch(&self, key: u8) -> impl Future<Output = Result<u8, ShapeError>> + Send;
    }
    pub struct Store;
    impl Fetch for Store {
        #[allow(clippy::manual_async_fn)]
        #[instrument_errors]
        fn fetch(&self, key: u8) -> impl Future<Output = Result<u8, ShapeError>> + Send {
            async move {
                yield_now().await;
                mark(f!("fetch"));
                if key == 0 {
                    Err(ShapeError::Missing)
                } else {
                    Ok(key)
                }
            }
        }
    }

    // S140 an `async fn` whose future is spawned on a multi-thread runtime
    // (it must stay `Send`)
    #[instrument_errors]
    async fn spawned(x: u8) -> Result<u8, ShapeError> {
        yield_now().await;
        mark(f!("spawned"));
        x.checked_mul(2).ok_or(ShapeError::Broken)
    }

    // S141 a generic sync fn returning `impl Future + Send`
    #[allow(clippy::manual_async_fn)]
    #[instrument_errors]
    fn generic_future<T: Send + 'static>(x: T) -> impl Future<Output = T> + Send {
        async move {
            yield_now().await;
            mark(f!("generic_future"));
            x
        }
    }

    // S142 `Result<(), Box<dyn Error>>` with `?`
    #[instrument_errors]
    fn boxed_dyn_error(s: &str) -> Result<(), Box<dyn std::error::Error>> {
        let _: u8 = s.parse()?;
        Ok(())
    }

    // S143 `async fn` with `Box<dyn Error + Send + Sync>` and `?`
    #[instrument_errors]
    async fn async_boxed_error(s: &str) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
        yield_now().await;
        mark(f!("async_boxed_error"));
        Ok(s.parse::<u8>()?)
    }

    // S144 a boxed `dyn Iterator` borrowing an argument
    #[instrument_errors]
    fn boxed_iter(xs: &[u8]) -> Box<dyn Iterator<Item = &u8> + '_> {
        Box::new(xs.iter().filter(|x| **x > 1))
    }

    // S145 an associated type of a generic parameter in the return type
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    fn first<I: IntoIterator>(i: I) -> Option<I::Item> {
        i.into_iter().next()
    }

    // S146 `impl AsRef<str>` argument in an `async fn`
    #[allow(clippy::needless_pass_by_value)]
    #[instrument_errors]
    async fn as_ref_arg(s: impl AsRef<str> + Send) -> Result<usize, ShapeError> {
        yield_now().await;
        let n = s.as_ref().len();
        if n == 0 {
            Err(ShapeError::Missing)
        } else {
            Ok(n)
        }
    }

    pub enum State {
        Ready(u8),
        Failed,
    }

    impl State {
        // S147 an `async fn` consuming `self` and matching on it
        #[instrument_errors]
        async fn settle(self) -> Result<u8, ShapeError> {
            yield_now().await;
            mark(f!("settle"));
            match self {
                State::Ready(v) => Ok(v),
                State::Failed => Err(ShapeError::Broken),
            }
        }
    }

    // S148 `?` on a turbofished `Ok` inside an `impl Future`'s `async` block
    #[allow(clippy::manual_async_fn)]
    #[instrument_errors]
    fn turbofish_ok(x: u8) -> impl Future<Output = Result<u8, ShapeError>> {
        async move {
            let v = Ok::<u8, ShapeError>(x)?;
            yield_now().await;
            mark(f!("turbofish_ok"));
            v.checked_sub(1).ok_or(ShapeError::Broken)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn all() {
        let _t = telemetry();
        assert!(Store.fetch(0).await.is_err());
        assert_eq!(tokio::spawn(spawned(2)).await.expect("joined").unwrap(), 4);
        assert_eq!(
            tokio::spawn(generic_future("x")).await.expect("joined"),
            "x"
        );
        assert!(boxed_dyn_error("x").is_err());
        assert!(async_boxed_error("x").await.is_err());
        assert_eq!(boxed_iter(&[1, 2, 3]).count(), 2);
        assert_eq!(first(vec![5, 6]), Some(5));
        assert_eq!(as_ref_arg("ab").await.unwrap(), 2);
        assert!(State::Failed.settle().await.is_err());
        assert_eq!(State::Ready(1).settle().await.ok(), Some(1));
        assert!(turbofish_ok(0).await.is_err());

        covered(&err(f!("fetch"), "gone"), f!("fetch"));
        covered(&ok(f!("spawned")), f!("spawned"));
        covered(&ok(f!("generic_future")), f!("generic_future"));
        err_any(f!("boxed_dyn_error"));
        covered(&err_any(f!("async_boxed_error")), f!("async_boxed_error"));
        ok(f!("boxed_iter"));
        ok(f!("first"));
        ok(f!("as_ref_arg"));
        let settle = super::spans_of(f!("settle"));
        assert_eq!(settle.len(), 2);
        assert_eq!(
            settle
                .iter()
                .filter(|s| super::error_type(s).as_deref() == Some("broken"))
                .count(),
            1
        );
        // The second call, which succeeded, marked last.
        let ready = settle.iter().find(|s| super::error_type(s).is_none());
        covered(ready.expect("a successful call"), f!("settle"));
        covered(&err(f!("turbofish_ok"), "broken"), f!("turbofish_ok"));
    }
}
