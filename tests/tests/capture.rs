//! `instrument_errors::testing::capture` without any provider or `tracing`
//! subscriber installed (call sites that record nothing otherwise): sync and
//! async calls, tokio's multi-thread runtime, a future moving between
//! threads, tests running in parallel, success, failure, handled errors,
//! panics, nested and cancelled calls. `capture_sdk.rs` has the same with the
//! SDK installed, and the agreement with its exporters.
//!
//! `cargo test -p instrument-errors-tests --features testing --test capture`

use std::future::Future;
use std::sync::{Arc, Barrier};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use instrument_errors::testing::{capture, capture_future, Captured};
use instrument_errors::{instrument_errors, ErrorType};
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;

#[derive(Debug, ErrorType)]
enum StoreError {
    #[error_type("timeout")]
    TimedOut,
    AlreadyExists,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreError::TimedOut => "the store timed out",
            StoreError::AlreadyExists => "it exists",
        })
    }
}

fn exists(e: &StoreError) -> bool {
    matches!(e, StoreError::AlreadyExists)
}

#[instrument_errors(
    name = "cap.store.get",
    kind = client,
    metric = "cap.store.get.duration",
    attributes("cap.id" = i64::from(id)),
)]
fn get(id: u32) -> Result<u32, StoreError> {
    match id {
        0 => Err(StoreError::TimedOut),
        _ => Ok(id),
    }
}

#[instrument_errors(name = "cap.store.create", ok_if = exists, handled_attribute = "cap.status")]
fn create(id: u32) -> Result<(), StoreError> {
    match id {
        0 => Err(StoreError::AlreadyExists),
        _ => Ok(()),
    }
}

#[instrument_errors(name = "cap.handler", kind = server)]
fn handler(id: u32) -> Result<u32, StoreError> {
    let v = get(id)?;
    Ok(v * 2)
}

#[instrument_errors(name = "cap.health", error_if = |s: &u16| (*s >= 500).then(|| s.to_string()))]
fn health(status: u16) -> u16 {
    status
}

#[instrument_errors(name = "cap.boom")]
fn boom() -> Result<(), StoreError> {
    panic!("kaboom")
}

#[instrument_errors(
    name = "cap.async.get",
    kind = client,
    result_attributes = |r: &Result<u32, StoreError>| {
        [opentelemetry::KeyValue::new("cap.ok", r.is_ok())]
    },
)]
async fn get_async(id: u32) -> Result<u32, StoreError> {
    tokio::task::yield_now().await;
    match id {
        0 => Err(StoreError::TimedOut),
        _ => Ok(id),
    }
}

#[instrument_errors(name = "cap.async.order", kind = server)]
async fn order(id: u32) -> Result<u32, StoreError> {
    let a = get_async(id).await?;
    tokio::task::yield_now().await;
    let b = get_async(id + 1).await?;
    Ok(a + b)
}

#[instrument_errors(name = "cap.async.slow")]
async fn slow() -> Result<(), StoreError> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

fn string(v: &str) -> Value {
    Value::from(v.to_owned())
}

#[test]
fn success() {
    let (out, captured) = capture(|| get(7));
    assert_eq!(out.ok(), Some(7));
    assert_eq!(captured.calls().len(), 1);
    let call = captured.call("cap.store.get");
    assert_eq!(call.name(), "cap.store.get");
    assert_eq!(call.kind(), SpanKind::Client);
    assert_eq!(call.status(), &Status::Unset);
    assert_eq!(call.error_type(), None);
    assert_eq!(call.span_attribute("cap.id"), Some(&Value::I64(7)));
    assert_eq!(
        call.span_attribute("code.function.name"),
        Some(&string("capture::get"))
    );
    assert_eq!(call.metric_name(), "cap.store.get.duration");
    assert!(call.metric_recorded());
    assert_eq!(call.metric_attribute("error.type"), None);
    assert!(call.record().is_none());
    assert!(call.parent().is_none());
}

#[test]
fn failure() {
    let (out, captured) = capture(|| get(0));
    assert!(out.is_err());
    let call = captured.call("cap.store.get");
    assert_eq!(call.status(), &Status::error("the store timed out"));
    assert_eq!(call.error_type(), Some("timeout"));
    assert_eq!(
        call.metric_attribute("error.type"),
        Some(&string("timeout"))
    );
    let record = call.record().expect("an exception record");
    assert_eq!(record.event_name(), "cap.store.get.exception");
    assert_eq!(record.severity(), Severity::Warn);
    assert_eq!(record.attribute("exception.type"), Some(&string("timeout")));
    assert_eq!(
        record.attribute("exception.message"),
        Some(&string("the store timed out"))
    );
    assert_eq!(
        record.attribute("code.function.name"),
        Some(&string("capture::get"))
    );
}

#[test]
fn handled() {
    let (out, captured) = capture(|| create(0));
    assert!(out.is_err());
    let call = captured.call("cap.store.create");
    assert_eq!(call.status(), &Status::Unset);
    assert_eq!(call.error_type(), None);
    assert_eq!(
        call.span_attribute("cap.status"),
        Some(&string("already_exists"))
    );
    // The default histogram, with `code.function.name` and no `error.type`.
    assert_eq!(call.metric_name(), "function.duration");
    assert_eq!(
        call.metric_attribute("code.function.name"),
        Some(&string("capture::create"))
    );
    assert_eq!(call.metric_attribute("error.type"), None);
    let record = call.record().expect("a DEBUG record");
    assert_eq!(record.severity(), Severity::Debug);
    assert_eq!(
        record.attribute("cap.status"),
        Some(&string("already_exists"))
    );
}

#[test]
fn rejected_value_is_a_failure_without_record() {
    let (out, captured) = capture(|| health(503));
    assert_eq!(out, 503);
    let call = captured.call("cap.health");
    assert_eq!(call.status(), &Status::error(""));
    assert_eq!(call.error_type(), Some("503"));
    assert_eq!(call.metric_attribute("error.type"), Some(&string("503")));
    assert!(call.record().is_none());
}

#[test]
fn panic_is_captured_and_continues() {
    let (caught, captured) = capture(|| std::panic::catch_unwind(boom));
    let payload = caught.expect_err("the panic continues");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaboom"));
    let call = captured.call("cap.boom");
    assert_eq!(call.status(), &Status::error("kaboom"));
    assert_eq!(call.error_type(), Some("panic"));
    assert_eq!(call.metric_attribute("error.type"), Some(&string("panic")));
    let record = call.record().expect("a record");
    assert_eq!(record.severity(), Severity::Error);
    assert_eq!(
        record.attribute("exception.message"),
        Some(&string("kaboom"))
    );
}

#[test]
fn nested_calls_and_one_record() {
    let (out, captured) = capture(|| (handler(3), handler(0)));
    assert_eq!(out.0.ok(), Some(6));
    assert!(out.1.is_err());
    let names: Vec<&str> = captured.calls().iter().map(|c| c.name()).collect();
    // In the order they finished.
    assert_eq!(
        names,
        [
            "cap.store.get",
            "cap.handler",
            "cap.store.get",
            "cap.handler"
        ]
    );
    let calls = captured.calls();
    assert_eq!(calls[0].parent(), Some("cap.handler"));
    assert_eq!(calls[1].parent(), None);
    // The failure: both spans carry it, one record, from the innermost
    // call, at the server's severity.
    assert_eq!(calls[2].error_type(), Some("timeout"));
    assert_eq!(calls[3].error_type(), Some("timeout"));
    assert_eq!(calls[3].status(), &Status::error("the store timed out"));
    let record = calls[2].record().expect("the store's record");
    assert_eq!(record.event_name(), "cap.store.get.exception");
    assert_eq!(record.severity(), Severity::Error);
    assert!(calls[3].record().is_none());
}

#[test]
#[should_panic(
    expected = "expected exactly one captured call named \"cap.store.get\", found several"
)]
fn call_panics_unless_exactly_one() {
    let ((), captured) = capture(|| {
        let _ = get(1);
        let _ = get(2);
    });
    captured.call("cap.store.get");
}

#[test]
fn nothing_outside_the_closure_nor_from_other_threads() {
    let _ = get(1);
    let ((), captured) = capture(|| {
        std::thread::spawn(|| get(2)).join().expect("joined").ok();
    });
    assert!(captured.calls().is_empty(), "{captured:?}");
    let (_, captured) = capture(|| get(3));
    assert_eq!(captured.calls().len(), 1);
}

/// Threads capturing at the same time see only their own calls.
#[test]
fn parallel_captures_are_isolated() {
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let id = t as u32 + 1;
                let ((), captured) = capture(|| {
                    barrier.wait();
                    for _ in 0..100 {
                        let _ = handler(id);
                    }
                });
                assert_eq!(captured.calls().len(), 200);
                assert!(captured.calls().iter().all(|c| c
                    .span_attribute("cap.id")
                    .is_none_or(|v| v == &Value::I64(i64::from(id)))));
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread passed");
    }
}

fn check_order(captured: &Captured) {
    let names: Vec<&str> = captured.calls().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        ["cap.async.get", "cap.async.get", "cap.async.order"],
        "{captured:?}"
    );
    let calls = captured.calls();
    assert_eq!(calls[0].parent(), Some("cap.async.order"));
    assert_eq!(calls[1].parent(), Some("cap.async.order"));
    assert_eq!(calls[0].span_attribute("cap.ok"), Some(&Value::Bool(true)));
    assert_eq!(calls[2].kind(), SpanKind::Server);
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[test]
fn async_on_tokio_multi_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Spawned: `capture_future` is `Send` when the future is.
        let tasks: Vec<_> = (1..=16u32)
            .map(|id| tokio::spawn(assert_send(capture_future(order(id)))))
            .collect();
        for (id, task) in (1..=16u32).zip(tasks) {
            let (out, captured) = task.await.expect("task");
            assert_eq!(out.ok(), Some(2 * id + 1));
            check_order(&captured);
            assert_eq!(
                captured.calls()[0].span_attribute("code.function.name"),
                Some(&string("capture::get_async"))
            );
        }
        // A failure inside: one record, from the innermost call.
        let (out, captured) = capture_future(order(0)).await;
        assert!(out.is_err());
        let calls = captured.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].span_attribute("cap.ok"), Some(&Value::Bool(false)));
        assert_eq!(
            calls[0].record().map(|r| r.severity()),
            Some(Severity::Error)
        );
        assert_eq!(calls[1].error_type(), Some("timeout"));
        assert!(calls[1].record().is_none());
    });
}

/// The future is polled on one thread, then moved to another one that
/// finishes it: every call is still captured, with its parent.
#[test]
fn future_moving_between_threads() {
    let mut fut = Box::pin(capture_future(order(4)));
    let waker = futures::task::noop_waker_ref();
    let first_thread = std::thread::current().id();
    assert!(fut
        .as_mut()
        .poll(&mut TaskContext::from_waker(waker))
        .is_pending());
    let (out, captured) = std::thread::spawn(move || {
        assert_ne!(std::thread::current().id(), first_thread);
        loop {
            if let Poll::Ready(done) = fut.as_mut().poll(&mut TaskContext::from_waker(waker)) {
                break done;
            }
        }
    })
    .join()
    .expect("the other thread");
    assert_eq!(out.ok(), Some(9));
    check_order(&captured);
}

#[test]
fn cancelled_future_ends_without_a_point() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (out, captured) = runtime.block_on(capture_future(async {
        tokio::time::timeout(Duration::from_millis(10), slow()).await
    }));
    assert!(out.is_err(), "timed out");
    let call = captured.call("cap.async.slow");
    assert_eq!(call.status(), &Status::Unset);
    assert_eq!(call.error_type(), None);
    assert!(!call.metric_recorded());
    assert!(call.record().is_none());
}

/// Captures nest: the inner one takes the calls made inside it.
#[test]
fn nested_captures() {
    let ((inner, ()), outer) = capture(|| {
        let (_, inner) = capture(|| get(1));
        let _ = get(2);
        (inner, ())
    });
    assert_eq!(inner.calls().len(), 1);
    assert_eq!(
        inner.calls()[0].span_attribute("cap.id"),
        Some(&Value::I64(1))
    );
    assert_eq!(outer.calls().len(), 1);
    assert_eq!(
        outer.calls()[0].span_attribute("cap.id"),
        Some(&Value::I64(2))
    );
}
