//! What each call of the example's services records, read with
//! `instrument_errors::testing::capture`: no providers, no exporters, no
//! flushing, and each test sees only its own calls.

use instrument_errors::testing::{capture, capture_future};
use instrument_errors_examples::async_service::{place_order, Inventory};
use instrument_errors_examples::store::{Store, StoreError};
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;

fn string(s: &str) -> Option<Value> {
    Some(Value::from(s.to_owned()))
}

#[test]
fn an_existing_resource_is_handled() {
    let store = Store::new();
    let (result, captured) = capture(|| {
        store.create("r-1", "first").expect("created");
        store.create("r-1", "again")
    });
    assert_eq!(result, Err(StoreError::AlreadyExists));
    let calls = captured.calls();
    assert_eq!(calls.len(), 2);
    for call in calls {
        assert_eq!(call.name(), "acme.resource.create");
        assert_eq!(call.kind(), SpanKind::Client);
        assert_eq!(call.status(), &Status::Unset);
        assert_eq!(call.error_type(), None);
        assert_eq!(call.metric_name(), "acme.resource.create.duration");
        assert_eq!(
            call.span_attribute("acme.resource.id").cloned(),
            string("r-1")
        );
    }
    assert!(calls[0].record().is_none());
    let record = calls[1].record().expect("a DEBUG record");
    assert_eq!(record.severity(), Severity::Debug);
    assert_eq!(
        record.attribute("exception.type").cloned(),
        string("already_exists")
    );
}

#[test]
fn a_missing_resource_fails_the_request_once() {
    let store = Store::new();
    let (result, captured) = capture(|| store.handle_get("r-2"));
    assert_eq!(result, Err(StoreError::NotFound));
    let get = captured.call("acme.resource.get");
    let handler = captured.call("GET /resources/{id}");
    assert_eq!(get.parent(), Some("GET /resources/{id}"));
    for call in [get, handler] {
        assert_eq!(call.status(), &Status::error("no such resource"));
        assert_eq!(call.error_type(), Some("not_found"));
        assert_eq!(
            call.metric_attribute("error.type").cloned(),
            string("not_found")
        );
    }
    // One record, from the store, at the server's severity.
    let record = get.record().expect("one record");
    assert_eq!(record.event_name(), "acme.resource.get.exception");
    assert_eq!(record.severity(), Severity::Error);
    assert!(handler.record().is_none());
}

#[test]
fn a_5xx_health_answer_is_a_failure_without_record() {
    let store = Store::new();
    let (result, captured) = capture(|| store.health(503));
    assert_eq!(result.map(|h| h.status), Ok(503));
    let call = captured.call("acme.health");
    assert_eq!(call.error_type(), Some("503"));
    assert!(call.record().is_none());
    let (_, captured) = capture(|| store.health(0));
    let record = captured.call("acme.health").record().expect("a record");
    assert_eq!(record.severity(), Severity::Warn);
    assert_eq!(
        record.attribute("exception.type").cloned(),
        string("timeout")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders() {
    let inventory = Inventory::new();
    let (result, captured) = capture_future(place_order(&inventory, "book", 1)).await;
    assert_eq!(result, Ok(12));
    let names: Vec<&str> = captured.calls().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "shop.inventory.reserve",
            "shop.payment.charge",
            "shop.order.place"
        ]
    );
    assert!(captured
        .calls()
        .iter()
        .all(|c| c.status() == &Status::Unset));

    let (_, captured) = capture_future(place_order(&inventory, "unicorn", 1)).await;
    let reserve = captured.call("shop.inventory.reserve");
    assert_eq!(reserve.error_type(), Some("not_found"));
    assert_eq!(
        reserve.record().map(|r| r.severity()),
        Some(Severity::Error)
    );
    assert_eq!(
        captured.call("shop.order.place").error_type(),
        Some("not_found")
    );

    // The slow charge is cancelled: no error, no duration; the order times out.
    let (result, captured) = capture_future(place_order(&inventory, "piano", 1)).await;
    assert!(result.is_err());
    let charge = captured.call("shop.payment.charge");
    assert_eq!(charge.status(), &Status::Unset);
    assert!(!charge.metric_recorded());
    let order = captured.call("shop.order.place");
    assert_eq!(order.error_type(), Some("timeout"));
    assert_eq!(order.metric_name(), "shop.order.place.duration");
    assert_eq!(order.record().map(|r| r.severity()), Some(Severity::Error));
}
