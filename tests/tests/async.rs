//! Async functions (issue 3), on real tokio runtimes, read back from the SDK.
//!
//! The whole suite is written once in `suite!` and instantiated twice: in
//! `multi_thread` (2 workers) and in `current_thread`. Both copies share span
//! names, so every check selects spans and metric points by
//! `code.function.name`, which carries the module path
//! (`async::multi_thread::succeed` vs `async::current_thread::succeed`).

use std::fmt;
use std::time::Duration;

use instrument_errors::ErrorType;
use instrument_errors_tests::{attr, error_description, telemetry, Point};
use opentelemetry::trace::{SpanId, TraceContextExt as _};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::trace::SpanData;

#[derive(Debug, ErrorType)]
pub enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    NotFound,
    AlreadyExists,
    Backend {
        code: u16,
    },
}

impl StoreError {
    fn code(&self) -> String {
        match self {
            StoreError::Backend { code } => format!("backend_{code}"),
            _ => "other".to_owned(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::TimedOut => f.write_str("the store timed out"),
            StoreError::NotFound => f.write_str("no such resource"),
            StoreError::AlreadyExists => f.write_str("resource exists"),
            StoreError::Backend { code } => write!(f, "backend answered {code}"),
        }
    }
}

impl std::error::Error for StoreError {}

fn is_already_exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

#[derive(Debug)]
pub struct Reply {
    code: u16,
}

pub type MyResult<T> = Result<T, StoreError>;

/// Finished spans of the function `function` (its `code.function.name`).
fn spans_of(function: &str) -> Vec<SpanData> {
    let _ = telemetry().tracer_provider.force_flush();
    telemetry()
        .spans
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .filter(|s| attr(s, "code.function.name") == Some(Value::from(function.to_owned())))
        .collect()
}

/// The single finished span of `function`.
fn span_of(function: &str) -> SpanData {
    let mut spans = spans_of(function);
    assert_eq!(spans.len(), 1, "expected one span of {function}: {spans:?}");
    spans.remove(0)
}

/// The `function.duration` points of `function`.
fn points_of(function: &str) -> Vec<Point> {
    telemetry().points("function.duration", &[("code.function.name", function)])
}

/// The number of recorded durations of `function` with this `error.type`.
fn count_of(function: &str, error_type: Option<&str>) -> u64 {
    points_of(function)
        .iter()
        .filter(|p| p.get("error.type") == error_type)
        .map(|p| p.count)
        .sum()
}

fn span_duration(span: &SpanData) -> Duration {
    span.end_time
        .duration_since(span.start_time)
        .expect("a span ends after it starts")
}

/// The span id of the current OpenTelemetry context.
fn current_span_id() -> SpanId {
    Context::current().span().span_context().span_id()
}

macro_rules! suite {
    ($module:ident, $($runtime:tt)*) => {
        mod $module {
            use std::future::Future;
            use std::pin::Pin;
            use std::time::{Duration, SystemTime};

            use instrument_errors::instrument_errors;
            use opentelemetry::trace::{FutureExt as _, SpanId, Status, TraceContextExt as _, Tracer as _};
            use opentelemetry::{Context, Value};

            use super::*;

            /// `code.function.name` of a function of this module (`Type::method`
            /// for a method: the runtime names it after `Self`).
            fn f(name: &str) -> String {
                format!("{}::{name}", module_path!())
            }

            // ---- async fn: success, Err, the same recording as sync ----

            #[instrument_errors(name = "async.succeed")]
            async fn succeed(x: u32) -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                Ok(x + 1)
            }

            #[instrument_errors(name = "async.fail")]
            async fn fail(x: u32) -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                if x == 0 {
                    return Err(StoreError::TimedOut);
                }
                Err(StoreError::NotFound)
            }

            #[tokio::test($($runtime)*)]
            async fn async_fn_success_and_failure() {
                let _t = telemetry();
                assert_eq!(succeed(1).await.unwrap(), 2);
                assert!(matches!(fail(0).await, Err(StoreError::TimedOut)));

                let ok = span_of(&f("succeed"));
                assert_eq!(ok.name, "async.succeed");
                assert_eq!(ok.status, Status::Unset);
                assert_eq!(attr(&ok, "error.type"), None);
                assert_eq!(count_of(&f("succeed"), None), 1);
                assert_eq!(points_of(&f("succeed")).len(), 1);

                let failed = span_of(&f("fail"));
                assert_eq!(error_description(&failed).as_deref(), Some("the store timed out"));
                assert_eq!(attr(&failed, "error.type"), Some(Value::from("timeout")));
                assert_eq!(count_of(&f("fail"), Some("timeout")), 1);
                assert_eq!(count_of(&f("fail"), None), 0);
                // the exception is logged once, under the span
                let logs: Vec<_> = telemetry()
                    .logs_named("async.fail.exception")
                    .into_iter()
                    .filter(|l| l.trace_id == Some(failed.span_context.trace_id()))
                    .collect();
                assert_eq!(logs.len(), 1, "{logs:?}");
                assert_eq!(logs[0].span_id, Some(failed.span_context.span_id()));
            }

            // ---- methods ----

            pub struct Store {
                id: String,
                writes: u32,
            }

            impl Store {
                #[instrument_errors(name = "async.method.get", attributes("store.id" = self.id.clone(), "key" = key))]
                async fn get(&self, key: &str) -> Result<String, StoreError> {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    match key {
                        "" => Err(StoreError::NotFound),
                        _ => Ok(format!("{}/{key}", self.id)),
                    }
                }

                #[instrument_errors(name = "async.method.put", attributes("writes" = i64::from(self.writes)))]
                async fn put(&mut self, key: &str) -> Result<u32, StoreError> {
                    tokio::task::yield_now().await;
                    if key.is_empty() {
                        return Err(StoreError::Backend { code: 503 });
                    }
                    self.writes += 1;
                    Ok(self.writes)
                }
            }

            #[tokio::test($($runtime)*)]
            async fn methods_ref_and_mut_self() {
                let _t = telemetry();
                let mut store = Store { id: "s1".to_owned(), writes: 0 };
                assert_eq!(store.get("a").await.unwrap(), "s1/a");
                assert!(store.get("").await.is_err());
                assert_eq!(store.put("a").await.unwrap(), 1);
                assert_eq!(store.put("b").await.unwrap(), 2);
                assert!(store.put("").await.is_err());
                assert_eq!(store.writes, 2);

                let gets = spans_of(&f("Store::get"));
                assert_eq!(gets.len(), 2);
                assert!(gets.iter().all(|s| attr(s, "store.id") == Some(Value::from("s1"))));
                let missing = gets
                    .iter()
                    .find(|s| attr(s, "key") == Some(Value::from("")))
                    .expect("span of get(\"\")");
                assert_eq!(attr(missing, "error.type"), Some(Value::from("not_found")));
                let puts = spans_of(&f("Store::put"));
                assert_eq!(puts.len(), 3);
                let failed: Vec<_> = puts.iter().filter(|s| s.status != Status::Unset).collect();
                assert_eq!(failed.len(), 1);
                assert_eq!(attr(failed[0], "writes"), Some(Value::I64(2)));
                assert_eq!(attr(failed[0], "error.type"), Some(Value::from("backend")));
                assert_eq!(count_of(&f("Store::put"), None), 2);
                assert_eq!(count_of(&f("Store::put"), Some("backend")), 1);
            }

            // ---- generics ----

            #[instrument_errors(name = "async.generic.parse")]
            async fn parse<T>(s: impl AsRef<str> + Send) -> Result<T, T::Err>
            where
                T: std::str::FromStr + Send,
                T::Err: fmt::Display,
            {
                tokio::task::yield_now().await;
                s.as_ref().parse()
            }

            #[tokio::test($($runtime)*)]
            async fn generic_async_fn() {
                let _t = telemetry();
                assert_eq!(parse::<u8>("7").await.unwrap(), 7);
                assert!(parse::<u8>("300").await.is_err());
                assert!(parse::<f64>(String::from("x")).await.is_err());
                let spans = spans_of(&f("parse"));
                assert_eq!(spans.len(), 3);
                let mut types: Vec<_> = spans.iter().filter_map(|s| attr(s, "error.type")).collect();
                types.sort_by_key(ToString::to_string);
                assert_eq!(
                    types,
                    vec![
                        Value::from("std::num::ParseFloatError"),
                        Value::from("std::num::ParseIntError"),
                    ]
                );
                assert_eq!(count_of(&f("parse"), None), 1);
            }

            // ---- native async fn in traits ----

            trait Repo {
                async fn load(&self, id: u32) -> Result<u32, StoreError>;

                #[instrument_errors(name = "async.native.default")]
                async fn load_twice(&self, id: u32) -> Result<u32, StoreError> {
                    let a = self.load(id).await?;
                    Ok(a + self.load(id).await?)
                }
            }

            struct MemRepo;

            impl Repo for MemRepo {
                #[instrument_errors(name = "async.native.load")]
                async fn load(&self, id: u32) -> Result<u32, StoreError> {
                    tokio::task::yield_now().await;
                    if id == 0 { Err(StoreError::NotFound) } else { Ok(id) }
                }
            }

            #[tokio::test($($runtime)*)]
            async fn native_async_fn_in_trait() {
                let _t = telemetry();
                assert_eq!(MemRepo.load_twice(4).await.unwrap(), 8);
                assert!(MemRepo.load_twice(0).await.is_err());
                let defaults = spans_of(&f("MemRepo::load_twice"));
                assert_eq!(defaults.len(), 2);
                let loads = spans_of(&f("MemRepo::load"));
                assert_eq!(loads.len(), 3);
                for load in &loads {
                    assert!(
                        defaults.iter().any(|d| d.span_context.span_id() == load.parent_span_id),
                        "each load is a child of a load_twice"
                    );
                }
                let failed = defaults.iter().find(|d| d.status != Status::Unset).expect("one failed");
                assert_eq!(attr(failed, "error.type"), Some(Value::from("not_found")));
            }

            // ---- #[async_trait] ----
            //
            // rustc expands attribute macros outside-in. `#[async_trait]` sits on
            // the trait / impl, so it always runs before the `#[instrument_errors]`
            // on a method inside it: it rewrites `async fn call(..)` into
            // `fn call<'life0, 'async_trait>(..) -> Pin<Box<dyn Future<..> + Send +
            // 'async_trait>> { Box::pin(async move { .. }) }`, keeping our attribute
            // on it, and our attribute then sees *async_trait's output*: the
            // `Box::pin(async move ..)` tail (form `ReturnsAsyncBlock`). This is the
            // case of `Svc::call` (impl method) and `Svc::ping` (trait default
            // method) below.
            //
            // Our attribute sees the *original `async fn`* when it runs first,
            // which rustc only does when it is the outer attribute: on the item
            // that async_trait would otherwise rewrite. `Svc::lookup` is
            // implemented by delegating to the instrumented `async fn lookup_impl`,
            // which our attribute expands from the source text (form `AsyncFn`),
            // and whose future async_trait then boxes (it must stay `Send`).

            #[async_trait::async_trait]
            trait Svc: Sync {
                async fn call(&self, n: u32) -> Result<u32, StoreError>;
                async fn lookup(&self, n: u32) -> Result<u32, StoreError>;

                #[instrument_errors(name = "async.async_trait.ping", attributes("n" = i64::from(n)))]
                async fn ping(&self, n: u32) -> Result<u32, StoreError> {
                    tokio::task::yield_now().await;
                    self.call(n).await
                }
            }

            struct Service {
                base: u32,
            }

            #[instrument_errors(name = "async.async_trait.lookup")]
            async fn lookup_impl(svc: &Service, n: u32) -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                if n == 0 { Err(StoreError::NotFound) } else { Ok(svc.base * n) }
            }

            #[async_trait::async_trait]
            impl Svc for Service {
                #[instrument_errors(name = "async.async_trait.call", error_type = |e: &StoreError| e.code(), attributes("base" = i64::from(self.base)))]
                async fn call(&self, n: u32) -> Result<u32, StoreError> {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    if n >= 500 {
                        return Err(StoreError::Backend { code: n as u16 });
                    }
                    Ok(self.base + n)
                }

                async fn lookup(&self, n: u32) -> Result<u32, StoreError> {
                    lookup_impl(self, n).await
                }
            }

            #[tokio::test($($runtime)*)]
            async fn async_trait_methods() {
                let _t = telemetry();
                let svc = Service { base: 10 };
                assert_eq!(svc.call(1).await.unwrap(), 11);
                assert!(svc.call(503).await.is_err());
                assert_eq!(svc.ping(2).await.unwrap(), 12);
                assert_eq!(svc.lookup(3).await.unwrap(), 30);
                assert!(svc.lookup(0).await.is_err());
                // through a trait object, on another task (the futures are Send)
                let dynamic: std::sync::Arc<dyn Svc + Send> = std::sync::Arc::new(Service { base: 1 });
                let handle = tokio::spawn(async move { dynamic.ping(504).await });
                assert!(handle.await.unwrap().is_err());

                let calls = spans_of(&f("Service::call"));
                assert_eq!(calls.len(), 4);
                assert!(calls.iter().all(|s| s.name == "async.async_trait.call"));
                let backend: Vec<_> = calls
                    .iter()
                    .filter_map(|s| attr(s, "error.type"))
                    .map(|v| v.to_string())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                assert_eq!(backend, ["backend_503", "backend_504"]);
                assert_eq!(count_of(&f("Service::call"), Some("backend_503")), 1);
                assert_eq!(count_of(&f("Service::call"), None), 2);

                let pings = spans_of(&f("Service::ping"));
                assert_eq!(pings.len(), 2);
                for ping in &pings {
                    let n = attr(ping, "n").expect("n");
                    let child = calls
                        .iter()
                        .find(|c| c.parent_span_id == ping.span_context.span_id())
                        .expect("call nests under ping");
                    if n == Value::I64(504) {
                        assert_eq!(attr(ping, "error.type"), Some(Value::from("backend")));
                        assert_eq!(attr(child, "base"), Some(Value::I64(1)));
                    } else {
                        assert_eq!(ping.status, Status::Unset);
                        assert_eq!(attr(child, "base"), Some(Value::I64(10)));
                    }
                }

                let lookups = spans_of(&f("lookup_impl"));
                assert_eq!(lookups.len(), 2);
                assert_eq!(count_of(&f("lookup_impl"), Some("not_found")), 1);
            }

            // ---- fn f() -> impl Future / Pin<Box<dyn Future>> with an async tail ----

            #[instrument_errors(name = "async.deferred", attributes("delay_ms" = delay_ms as i64))]
            fn deferred(delay_ms: u64) -> impl Future<Output = Result<u32, StoreError>> {
                let step = u32::try_from(delay_ms).unwrap_or(u32::MAX);
                async move {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    let checked = step.checked_sub(1).ok_or(StoreError::NotFound)?;
                    Ok(checked)
                }
            }

            #[instrument_errors(name = "async.boxed")]
            fn boxed(n: u32) -> Pin<Box<dyn Future<Output = MyResult<u32>> + Send>> {
                Box::pin(async move {
                    tokio::task::yield_now().await;
                    if n == 0 {
                        Err(StoreError::TimedOut)?;
                    }
                    Ok(n)
                })
            }

            // Errors without `ErrorType`: the output type of the `async` block
            // must be known where the outcome is classified.
            #[instrument_errors(name = "async.impl_future.io")]
            fn read_later(ok: bool) -> impl Future<Output = std::io::Result<u32>> + Send {
                async move {
                    tokio::task::yield_now().await;
                    if ok {
                        return Ok(1);
                    }
                    Err(std::io::Error::other("disk on fire"))
                }
            }

            #[instrument_errors(name = "async.boxed.anyhow")]
            fn boxed_anyhow(n: u32) -> Pin<Box<dyn Future<Output = anyhow::Result<u32>> + Send>> {
                Box::pin(async move {
                    tokio::task::yield_now().await;
                    let parsed: u32 = "x".parse().map(|v: u32| v + n)?;
                    Ok(parsed)
                })
            }

            #[tokio::test($($runtime)*)]
            async fn impl_future_errors_without_error_type() {
                let _t = telemetry();
                assert_eq!(read_later(true).await.unwrap(), 1);
                assert!(read_later(false).await.is_err());
                assert!(boxed_anyhow(1).await.is_err());
                assert_eq!(count_of(&f("read_later"), None), 1);
                assert_eq!(count_of(&f("read_later"), Some("std::io::ErrorKind::Other")), 1);
                let io = spans_of(&f("read_later"));
                let failed = io.iter().find(|s| s.status != Status::Unset).expect("failed");
                assert_eq!(error_description(failed).as_deref(), Some("disk on fire"));
                let any = span_of(&f("boxed_anyhow"));
                assert_eq!(attr(&any, "error.type"), Some(Value::from("std::num::ParseIntError")));
                assert_eq!(
                    error_description(&any).as_deref(),
                    Some("invalid digit found in string")
                );
            }

            #[tokio::test($($runtime)*)]
            async fn impl_future_is_instrumented_from_first_poll() {
                let _t = telemetry();
                let fut = deferred(30);
                let built = SystemTime::now();
                tokio::time::sleep(Duration::from_millis(150)).await;
                assert_eq!(fut.await.unwrap(), 29);
                let span = span_of(&f("deferred"));
                assert_eq!(attr(&span, "delay_ms"), Some(Value::I64(30)));
                // The span starts at the first poll, after the 150ms sleep, not
                // when the future was built.
                let start_after_build = span.start_time.duration_since(built).expect("starts after the future was built");
                assert!(start_after_build >= Duration::from_millis(100), "{start_after_build:?}");
                // and it covers the 30ms sleep inside
                assert!(span_duration(&span) >= Duration::from_millis(30));
                let points = points_of(&f("deferred"));
                assert_eq!(points.len(), 1);
                assert!(points[0].sum >= 0.03, "{points:?}");

                // `?` inside the async block converts as in the function
                assert!(matches!(deferred(0).await, Err(StoreError::NotFound)));
                assert_eq!(count_of(&f("deferred"), Some("not_found")), 1);

                // a future built and never polled records nothing
                drop(deferred(1));

                assert_eq!(boxed(3).await.unwrap(), 3);
                assert!(boxed(0).await.is_err());
                let spans = spans_of(&f("boxed"));
                assert_eq!(spans.len(), 2);
                assert_eq!(count_of(&f("boxed"), Some("timeout")), 1);
                assert_eq!(spans_of(&f("deferred")).len(), 2, "the dropped future has no span");
            }

            // ---- the span is the current context at every poll ----

            #[instrument_errors(name = "async.ctx.inner")]
            async fn ctx_inner(i: u32) -> Result<SpanId, StoreError> {
                let me = current_span_id();
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
                assert_eq!(current_span_id(), me, "inner: still current after awaits");
                if i == 3 { Err(StoreError::NotFound) } else { Ok(me) }
            }

            #[instrument_errors(name = "async.ctx.outer")]
            async fn ctx_outer() -> Result<Vec<SpanId>, StoreError> {
                let me = current_span_id();
                let mut seen = vec![me];
                for i in 0..6 {
                    tokio::task::yield_now().await;
                    seen.push(current_span_id());
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    seen.push(current_span_id());
                    let _ = ctx_inner(i).await;
                    seen.push(current_span_id());
                }
                Ok(seen)
            }

            #[tokio::test($($runtime)*)]
            async fn the_span_is_current_at_every_poll() {
                let _t = telemetry();
                let tracer = opentelemetry::global::tracer("async-tests");
                let root = tracer.start("async.ctx.root");
                let root_cx = Context::current_with_span(root);
                let root_id = root_cx.span().span_context().span_id();
                // on a spawned task, so that on the multi-thread runtime the
                // future may move between the two workers at its awaits
                let seen = tokio::spawn(ctx_outer().with_context(root_cx.clone()))
                    .await
                    .unwrap()
                    .unwrap();
                root_cx.span().end();
                assert_eq!(current_span_id(), SpanId::INVALID, "nothing leaks into the test's context");

                let outer = span_of(&f("ctx_outer"));
                assert_eq!(outer.parent_span_id, root_id);
                let outer_id = outer.span_context.span_id();
                assert!(seen.iter().all(|id| *id == outer_id), "{seen:?} vs {outer_id:?}");
                let inners = spans_of(&f("ctx_inner"));
                assert_eq!(inners.len(), 6);
                for inner in &inners {
                    assert_eq!(inner.parent_span_id, outer_id);
                    assert_eq!(inner.span_context.trace_id(), outer.span_context.trace_id());
                }
                assert_eq!(count_of(&f("ctx_inner"), Some("not_found")), 1);
                assert_eq!(outer.status, Status::Unset);
            }

            // ---- spawned tasks ----

            #[instrument_errors(name = "async.spawn.task")]
            async fn spawned_task(n: u32) -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                Ok(n)
            }

            #[instrument_errors(name = "async.spawn.parent")]
            async fn spawn_parent() -> Result<(u32, u32), StoreError> {
                // does not inherit the context: a root span of its own
                let detached = tokio::spawn(spawned_task(1));
                // inherits it explicitly: a child
                let inherited = tokio::spawn(spawned_task(2).with_current_context());
                Ok((detached.await.unwrap()?, inherited.await.unwrap()?))
            }

            #[tokio::test($($runtime)*)]
            async fn spawned_tasks_are_not_mis_parented() {
                let _t = telemetry();
                assert_eq!(spawn_parent().await.unwrap(), (1, 2));
                let parent = span_of(&f("spawn_parent"));
                let tasks = spans_of(&f("spawned_task"));
                assert_eq!(tasks.len(), 2);
                let (detached, inherited): (Vec<_>, Vec<_>) = tasks
                    .iter()
                    .partition(|s| s.parent_span_id != parent.span_context.span_id());
                assert_eq!(detached.len(), 1);
                assert_eq!(inherited.len(), 1);
                assert_eq!(detached[0].parent_span_id, SpanId::INVALID);
                assert_ne!(detached[0].span_context.trace_id(), parent.span_context.trace_id());
                assert_eq!(inherited[0].span_context.trace_id(), parent.span_context.trace_id());
            }

            // ---- timing covers the whole future ----

            #[instrument_errors(name = "async.slow")]
            async fn slow() -> Result<(), StoreError> {
                tokio::time::sleep(Duration::from_millis(30)).await;
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok(())
            }

            #[tokio::test($($runtime)*)]
            async fn timing_covers_the_whole_future() {
                let _t = telemetry();
                slow().await.unwrap();
                let span = span_of(&f("slow"));
                assert!(span_duration(&span) >= Duration::from_millis(50), "{span:?}");
                let points = points_of(&f("slow"));
                assert_eq!(points.len(), 1);
                assert_eq!(points[0].count, 1);
                assert!(points[0].sum >= 0.05, "{points:?}");
            }

            // ---- ok_if, error_if, error_type, description, aliases ----

            #[instrument_errors(name = "async.ok_if", ok_if = is_already_exists)]
            async fn create(id: &str) -> Result<(), StoreError> {
                tokio::task::yield_now().await;
                match id {
                    "exists" => Err(StoreError::AlreadyExists),
                    "gone" => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            }

            #[instrument_errors(
                name = "async.error_if",
                error_if = |r: &Reply| (r.code >= 500).then(|| r.code.to_string()),
            )]
            async fn request(code: u16) -> Result<Reply, StoreError> {
                tokio::task::yield_now().await;
                Ok(Reply { code })
            }

            #[instrument_errors(name = "async.error_if_plain", error_if = |n: &i32| (*n < 0).then_some("negative"))]
            async fn plain(n: i32) -> i32 {
                tokio::task::yield_now().await;
                n
            }

            #[instrument_errors(name = "async.error_type", error_type = StoreError::code, description = false)]
            async fn backend(code: u16) -> Result<(), StoreError> {
                tokio::task::yield_now().await;
                Err(StoreError::Backend { code })
            }

            #[instrument_errors(name = "async.alias.io")]
            async fn io_alias() -> std::io::Result<()> {
                tokio::task::yield_now().await;
                Err(std::io::Error::new(std::io::ErrorKind::NotFound, "missing file"))
            }

            #[instrument_errors(name = "async.alias.anyhow")]
            async fn anyhow_alias() -> anyhow::Result<()> {
                tokio::task::yield_now().await;
                anyhow::bail!("anyhow failed")
            }

            #[instrument_errors(name = "async.alias.user")]
            async fn user_alias() -> MyResult<()> {
                tokio::task::yield_now().await;
                Err(StoreError::NotFound)?;
                Ok(())
            }

            #[tokio::test($($runtime)*)]
            async fn classification_is_as_in_sync() {
                let _t = telemetry();
                assert!(create("exists").await.is_err());
                assert!(create("gone").await.is_err());
                assert!(create("fine").await.is_ok());
                assert_eq!(count_of(&f("create"), None), 2);
                assert_eq!(count_of(&f("create"), Some("not_found")), 1);
                let handled = spans_of(&f("create"));
                assert_eq!(handled.iter().filter(|s| s.status == Status::Unset).count(), 2);

                assert_eq!(request(503).await.unwrap().code, 503);
                assert_eq!(request(200).await.unwrap().code, 200);
                assert_eq!(count_of(&f("request"), Some("503")), 1);
                assert_eq!(count_of(&f("request"), None), 1);

                assert_eq!(plain(-1).await, -1);
                assert_eq!(plain(1).await, 1);
                assert_eq!(count_of(&f("plain"), Some("negative")), 1);
                assert_eq!(count_of(&f("plain"), None), 1);

                let _ = backend(502).await;
                let span = span_of(&f("backend"));
                assert_eq!(attr(&span, "error.type"), Some(Value::from("backend_502")));
                assert_eq!(error_description(&span).as_deref(), Some(""));

                let _ = io_alias().await;
                let _ = anyhow_alias().await;
                let _ = user_alias().await;
                let io = span_of(&f("io_alias"));
                assert_eq!(attr(&io, "error.type"), Some(Value::from("std::io::ErrorKind::NotFound")));
                assert_eq!(error_description(&io).as_deref(), Some("missing file"));
                let any = span_of(&f("anyhow_alias"));
                assert_eq!(attr(&any, "error.type"), Some(Value::from("_OTHER")));
                assert_eq!(error_description(&any).as_deref(), Some("anyhow failed"));
                let user = span_of(&f("user_alias"));
                assert_eq!(attr(&user, "error.type"), Some(Value::from("not_found")));
            }

            // ---- panics inside a poll ----

            #[instrument_errors(name = "async.panic")]
            async fn explode(n: u32) -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
                if n > 0 {
                    panic!("exploded with {n}");
                }
                Ok(n)
            }

            #[instrument_errors(name = "async.panic.outer")]
            async fn explode_outer(n: u32) -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                explode(n).await
            }

            #[tokio::test($($runtime)*)]
            async fn a_panic_is_recorded_once_and_continues() {
                let _t = telemetry();
                let error = tokio::spawn(explode_outer(7)).await.expect_err("panicked");
                let payload = error.into_panic();
                assert_eq!(
                    payload.downcast_ref::<String>().map(String::as_str),
                    Some("exploded with 7")
                );
                let span = span_of(&f("explode"));
                assert_eq!(attr(&span, "error.type"), Some(Value::from("panic")));
                assert_eq!(error_description(&span).as_deref(), Some("exploded with 7"));
                assert_eq!(count_of(&f("explode"), Some("panic")), 1);
                assert_eq!(points_of(&f("explode")).len(), 1);
                let outer = span_of(&f("explode_outer"));
                assert_eq!(span.parent_span_id, outer.span_context.span_id());
                assert_eq!(attr(&outer, "error.type"), Some(Value::from("panic")));
                assert_eq!(count_of(&f("explode_outer"), Some("panic")), 1);
                // one exception log record, from the innermost frame
                let trace = span.span_context.trace_id();
                let logs: Vec<_> = ["async.panic.exception", "async.panic.outer.exception"]
                    .iter()
                    .flat_map(|name| telemetry().logs_named(name))
                    .filter(|l| l.trace_id == Some(trace))
                    .collect();
                assert_eq!(logs.len(), 1, "{logs:?}");
                assert_eq!(logs[0].span_id, Some(span.span_context.span_id()));
                assert_eq!(logs[0].get("exception.type"), Some("panic"));
            }

            // ---- cancellation ----

            #[instrument_errors(name = "async.cancel.timeout")]
            async fn never_in_time() -> Result<(), StoreError> {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Err(StoreError::TimedOut)
            }

            #[instrument_errors(name = "async.cancel.winner")]
            async fn winner() -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                Ok(1)
            }

            #[instrument_errors(name = "async.cancel.loser")]
            async fn loser() -> Result<u32, StoreError> {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_secs(30)).await;
                Err(StoreError::TimedOut)
            }

            #[tokio::test($($runtime)*)]
            async fn cancelled_futures_end_their_span_without_error_or_duration() {
                let _t = telemetry();
                let elapsed = tokio::time::timeout(Duration::from_millis(20), never_in_time()).await;
                assert!(elapsed.is_err());
                let span = span_of(&f("never_in_time"));
                assert_eq!(span.status, Status::Unset);
                assert_eq!(attr(&span, "error.type"), None);
                assert!(points_of(&f("never_in_time")).is_empty());

                let picked = tokio::select! {
                    w = winner() => w.unwrap(),
                    l = loser() => l.unwrap(),
                };
                assert_eq!(picked, 1);
                let lost = span_of(&f("loser"));
                assert_eq!(lost.status, Status::Unset);
                assert_eq!(attr(&lost, "error.type"), None);
                assert!(points_of(&f("loser")).is_empty());
                assert_eq!(count_of(&f("winner"), None), 1);
                assert!(telemetry().logs_named("async.cancel.loser.exception").is_empty());
            }
        }
    };
}

suite!(multi_thread, flavor = "multi_thread", worker_threads = 2);
suite!(current_thread, flavor = "current_thread");
