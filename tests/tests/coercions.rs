//! Coercions (issue 18): the declared return type is a coercion site for the
//! tail and for every `return`, with the attribute as without it: deref
//! (`&String` -> `&str`, `&Vec<T>` -> `&[T]`, `&mut` -> `&`), unsizing
//! (`Box<T>` -> `Box<dyn Trait>`, `Arc<T>` -> `Arc<dyn Trait>`, a boxed
//! future), `!` -> any type, and inside `Ok(..)`/`Some(..)`. Each shape is
//! written twice by `both!`, plain and instrumented; the test compares the
//! values and reads the instrumented call's span back from the SDK.

#![deny(warnings)]

use std::fmt::{self, Display};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use instrument_errors::ErrorType;
use instrument_errors_tests::{attr, telemetry};
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;

#[derive(Debug, ErrorType)]
pub enum CoerceError {
    Empty,
}

impl Display for CoerceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("empty")
    }
}

pub struct Holder {
    pub name: String,
    pub other: String,
    pub bytes: Vec<u8>,
}

fn holder(name: &str) -> Holder {
    Holder {
        name: name.to_owned(),
        other: "other".to_owned(),
        bytes: vec![1, 2, 3],
    }
}

/// The shape, as `plain::$name` and as `instrumented::$name`.
macro_rules! both {
    ($($item:item)*) => {
        mod plain {
            #![allow(clippy::all, dead_code)]
            #[allow(unused_imports)]
            use super::*;
            $($item)*
        }
        mod instrumented {
            #![allow(clippy::all, dead_code)]
            #[allow(unused_imports)]
            use super::*;
            use instrument_errors::instrument_errors;
            $(#[instrument_errors] $item)*
        }
    };
}

both! {
    // sync: deref at the tail and at a `return`
    pub fn name(h: &Holder) -> &str {
        if h.name.is_empty() {
            return &h.other;
        }
        &h.name
    }
    // sync: `&Vec<u8>` -> `&[u8]`, inside `Some`
    pub fn bytes(h: &Holder) -> Option<&[u8]> {
        if h.name.is_empty() {
            return Some(&h.bytes);
        }
        Some(&h.bytes)
    }
    // sync: inside `Ok`, with an `Err`
    pub fn ok_name(h: &Holder) -> Result<&str, CoerceError> {
        if h.name == "err" {
            return Err(CoerceError::Empty);
        }
        Ok(&h.name)
    }
    // sync: unsizing
    pub fn boxed(s: &str) -> Box<dyn Display + '_> {
        if s.is_empty() {
            return Box::new(0u8);
        }
        Box::new(s)
    }
    pub fn shared(n: u8) -> Arc<dyn Display + Send + Sync> {
        if n == 0 {
            return Arc::new("zero");
        }
        Arc::new(n)
    }
    // sync: `!` -> any type
    pub fn never(n: u8) -> u8 {
        let doubled: u8 = if n < 100 { n * 2 } else { return 0 };
        doubled
    }
    // async: deref at the tail and at a `return`
    pub async fn name_async(h: &Holder) -> &str {
        if h.name.is_empty() {
            return &h.other;
        }
        &h.name
    }
    // async: `&Vec<u8>` -> `&[u8]` inside `Some`, `&mut` -> `&`
    pub async fn bytes_async(h: &mut Holder) -> Option<&[u8]> {
        h.bytes.push(4);
        if h.name.is_empty() {
            return Some(&h.bytes);
        }
        Some(&mut h.bytes)
    }
    // async: inside `Ok`, with an `Err` and a `?`
    pub async fn ok_name_async(h: &Holder) -> Result<&str, CoerceError> {
        if h.name == "err" {
            return Err(CoerceError::Empty);
        }
        let checked: Result<(), CoerceError> = Ok(());
        checked?;
        Ok(&h.name)
    }
    // async: unsizing, `Box` and `Arc`
    pub async fn boxed_async(s: &str) -> Box<dyn Display + Send + '_> {
        if s.is_empty() {
            return Box::new(0u8);
        }
        Box::new(s)
    }
    pub async fn shared_async(n: u8) -> Arc<dyn Display + Send + Sync> {
        if n == 0 {
            return Arc::new("zero");
        }
        Arc::new(n)
    }
    // async: `!` -> any type
    pub async fn never_async(n: u8) -> u8 {
        let doubled: u8 = if n < 100 { n * 2 } else { return 0 };
        doubled
    }
    // async: a tail that diverges (compiles without warnings)
    pub async fn diverges_async() -> Result<u8, CoerceError> {
        todo!()
    }
    // a returned boxed future, unsized at the tail and at a `return`
    pub fn boxed_future(h: &Holder) -> Pin<Box<dyn Future<Output = usize> + Send + '_>> {
        if h.name.is_empty() {
            return Box::pin(async { 0 });
        }
        Box::pin(async move { h.name.len() })
    }
    // `-> impl Future`: returns and tail of the same type
    pub fn impl_future(n: u8) -> impl Future<Output = u8> {
        if n == 0 {
            return std::future::ready(1);
        }
        std::future::ready(n)
    }
}

fn spans_of(function: &str) -> Vec<SpanData> {
    let _ = telemetry().tracer_provider.force_flush();
    telemetry()
        .spans
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .filter(|s| attr(s, "code.function.name").is_some_and(|v| v.as_str() == function))
        .collect()
}

fn ok_calls(function: &str, calls: usize) {
    let spans = spans_of(&format!("coercions::instrumented::{function}"));
    assert_eq!(spans.len(), calls, "{function}");
    for span in spans {
        assert_eq!(span.status, Status::Unset, "{function}");
        assert!(attr(&span, "error.type").is_none(), "{function}");
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[test]
fn sync_coercions_return_the_same_values() {
    telemetry();
    for h in [holder("a"), holder("")] {
        assert_eq!(plain::name(&h), instrumented::name(&h));
        assert_eq!(plain::bytes(&h), instrumented::bytes(&h));
        assert_eq!(plain::ok_name(&h).ok(), instrumented::ok_name(&h).ok());
    }
    ok_calls("name", 2);
    ok_calls("bytes", 2);
    ok_calls("ok_name", 2);
    let failing = holder("err");
    assert!(instrumented::ok_name(&failing).is_err());
    let spans = spans_of("coercions::instrumented::ok_name");
    assert_eq!(spans.len(), 3);
    assert_eq!(
        attr(&spans[2], "error.type").map(|v| v.as_str().into_owned()),
        Some("empty".to_owned())
    );
    for s in ["x", ""] {
        assert_eq!(
            plain::boxed(s).to_string(),
            instrumented::boxed(s).to_string()
        );
    }
    for n in [0, 7] {
        assert_eq!(
            plain::shared(n).to_string(),
            instrumented::shared(n).to_string()
        );
    }
    for n in [3, 200] {
        assert_eq!(plain::never(n), instrumented::never(n));
    }
    ok_calls("boxed", 2);
    ok_calls("shared", 2);
    ok_calls("never", 2);
}

#[test]
fn async_coercions_return_the_same_values() {
    telemetry();
    block_on(async {
        for name in ["a", ""] {
            let mut h = holder(name);
            let mut g = holder(name);
            assert_eq!(
                plain::name_async(&h).await,
                instrumented::name_async(&h).await
            );
            assert_eq!(
                plain::bytes_async(&mut h).await,
                instrumented::bytes_async(&mut g).await
            );
            assert_eq!(
                plain::ok_name_async(&h).await.ok(),
                instrumented::ok_name_async(&h).await.ok()
            );
            assert_eq!(
                plain::boxed_future(&h).await,
                instrumented::boxed_future(&h).await
            );
        }
        for s in ["x", ""] {
            assert_eq!(
                plain::boxed_async(s).await.to_string(),
                instrumented::boxed_async(s).await.to_string()
            );
        }
        for n in [0, 7, 200] {
            assert_eq!(
                plain::shared_async(n).await.to_string(),
                instrumented::shared_async(n).await.to_string()
            );
            assert_eq!(
                plain::never_async(n).await,
                instrumented::never_async(n).await
            );
            assert_eq!(
                plain::impl_future(n).await,
                instrumented::impl_future(n).await
            );
        }
        assert!(instrumented::ok_name_async(&holder("err")).await.is_err());
    });
    for (function, calls) in [
        ("name_async", 2),
        ("bytes_async", 2),
        ("boxed_future", 2),
        ("boxed_async", 2),
        ("shared_async", 3),
        ("never_async", 3),
        ("impl_future", 3),
    ] {
        ok_calls(function, calls);
    }
    let spans = spans_of("coercions::instrumented::ok_name_async");
    assert_eq!(spans.len(), 3);
    assert!(matches!(spans[2].status, Status::Error { .. }));
    assert_eq!(
        attr(&spans[2], "error.type").map(|v| v.as_str().into_owned()),
        Some("empty".to_owned())
    );
}

#[test]
fn a_diverging_async_body_panics_the_same() {
    telemetry();
    let plain = std::panic::catch_unwind(|| block_on(plain::diverges_async()));
    let instrumented = std::panic::catch_unwind(|| block_on(instrumented::diverges_async()));
    assert!(plain.is_err() && instrumented.is_err());
    let spans = spans_of("coercions::instrumented::diverges_async");
    assert_eq!(spans.len(), 1);
    assert_eq!(
        attr(&spans[0], "error.type").map(|v| v.as_str().into_owned()),
        Some("panic".to_owned())
    );
}
