//! gRPC outcomes by their conventions (feature `tonic`), for every code, read
//! back from the SDK: real `tonic::Status` values returned by server and
//! client methods shaped as tonic generates them, and a real round trip (a
//! tonic server served by axum over HTTP/2 on loopback, a tonic client over a
//! `Channel`).

use instrument_errors::instrument_errors;
use instrument_errors_tests::{attr, error_description, telemetry, Telemetry};
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, Status as SpanStatus};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tonic::{Code, Request, Response, Status};

/// Every gRPC status code with its name, as the conventions spell it.
const CODES: [(Code, &str); 17] = [
    (Code::Ok, "OK"),
    (Code::Cancelled, "CANCELLED"),
    (Code::Unknown, "UNKNOWN"),
    (Code::InvalidArgument, "INVALID_ARGUMENT"),
    (Code::DeadlineExceeded, "DEADLINE_EXCEEDED"),
    (Code::NotFound, "NOT_FOUND"),
    (Code::AlreadyExists, "ALREADY_EXISTS"),
    (Code::PermissionDenied, "PERMISSION_DENIED"),
    (Code::ResourceExhausted, "RESOURCE_EXHAUSTED"),
    (Code::FailedPrecondition, "FAILED_PRECONDITION"),
    (Code::Aborted, "ABORTED"),
    (Code::OutOfRange, "OUT_OF_RANGE"),
    (Code::Unimplemented, "UNIMPLEMENTED"),
    (Code::Internal, "INTERNAL"),
    (Code::Unavailable, "UNAVAILABLE"),
    (Code::DataLoss, "DATA_LOSS"),
    (Code::Unauthenticated, "UNAUTHENTICATED"),
];

/// The codes the conventions count as server failures.
const SERVER_FAILURES: [&str; 6] = [
    "UNKNOWN",
    "DEADLINE_EXCEEDED",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
];

fn answer(code: Code) -> Result<Response<String>, Status> {
    if code == Code::Ok {
        Ok(Response::new("done".to_owned()))
    } else {
        Err(Status::new(code, format!("failed with {code:?}")))
    }
}

struct Echo;

impl Echo {
    /// A unary server method as tonic generates it.
    #[instrument_errors(
        name = "test.Echo/Answer",
        kind = server,
        ok_if = instrument_errors::grpc::server_handled,
        result_attributes = instrument_errors::grpc::response_attributes,
    )]
    async fn answer(&self, request: Request<Code>) -> Result<Response<String>, Status> {
        tokio::task::yield_now().await;
        answer(request.into_inner())
    }
}

/// A client call: every code but `OK` is a failure, with no argument needed.
#[instrument_errors(
    name = "test.Echo/Answer client",
    kind = client,
    result_attributes = instrument_errors::grpc::response_attributes,
)]
async fn call(code: Code) -> Result<Response<String>, Status> {
    tokio::task::yield_now().await;
    answer(code)
}

fn span_with_code(t: &Telemetry, name: &str, code: &str) -> SpanData {
    let mut spans: Vec<SpanData> = t
        .spans_named(name)
        .into_iter()
        .filter(|s| attr(s, "rpc.response.status_code") == Some(Value::from(code.to_owned())))
        .collect();
    assert_eq!(spans.len(), 1, "{name} {code}: {spans:?}");
    spans.remove(0)
}

/// Checks the span, metric point and exception record of one call.
fn check(t: &Telemetry, name: &str, metric_name: &str, code: &str, failure: bool) {
    let span = span_with_code(t, name, code);
    let points = t.points("function.duration", &[("code.function.name", metric_name)]);
    let point = points
        .iter()
        .find(|p| p.get("error.type") == failure.then_some(code));
    if failure {
        assert_eq!(
            attr(&span, "error.type"),
            Some(Value::from(code.to_owned())),
            "{code}"
        );
        // The status message alone, not `Status`'s `Display`.
        let expected = CODES
            .iter()
            .find(|(_, n)| *n == code)
            .map(|(c, _)| format!("failed with {c:?}"));
        assert_eq!(error_description(&span), expected, "{code}");
        assert_eq!(point.map(|p| p.count), Some(1), "{code}: {points:?}");
    } else {
        assert_eq!(span.status, SpanStatus::Unset, "{code}");
        assert_eq!(attr(&span, "error.type"), None, "{code}");
        assert!(point.is_some(), "{code}: {points:?}");
    }
}

#[tokio::test]
async fn server_classification_for_every_code() {
    let t = telemetry();
    for (code, _) in CODES {
        let result = Echo.answer(Request::new(code)).await;
        assert_eq!(result.is_ok(), code == Code::Ok);
    }
    for (_, name) in CODES {
        let failure = SERVER_FAILURES.contains(&name);
        check(t, "test.Echo/Answer", "grpc::Echo::answer", name, failure);
    }
    assert_eq!(
        span_with_code(t, "test.Echo/Answer", "OK").span_kind,
        SpanKind::Server
    );
    // Handled codes are successes: one duration point for OK and the ten
    // handled codes.
    let successes: Vec<_> = t
        .points(
            "function.duration",
            &[("code.function.name", "grpc::Echo::answer")],
        )
        .into_iter()
        .filter(|p| p.get("error.type").is_none())
        .collect();
    assert_eq!(successes.len(), 1);
    assert_eq!(successes[0].count, 11);
    // One exception record per failure, at ERROR, with the code's name and
    // the message; one DEBUG record per handled code (issue 12).
    let logs = t.logs_named("test.Echo/Answer.exception");
    let types_at = |severity: Severity| {
        let mut types: Vec<_> = logs
            .iter()
            .filter(|l| l.severity == Some(severity))
            .filter_map(|l| l.get("exception.type"))
            .collect();
        types.sort_unstable();
        types
    };
    let mut expected = SERVER_FAILURES.to_vec();
    expected.sort_unstable();
    assert_eq!(types_at(Severity::Error), expected);
    let mut handled: Vec<_> = CODES
        .iter()
        .map(|(_, name)| *name)
        .filter(|name| *name != "OK" && !SERVER_FAILURES.contains(name))
        .collect();
    handled.sort_unstable();
    assert_eq!(types_at(Severity::Debug), handled);
    assert_eq!(logs.len(), expected.len() + handled.len());
    let internal = logs
        .iter()
        .find(|l| l.get("exception.type") == Some("INTERNAL"))
        .expect("INTERNAL");
    assert_eq!(
        internal.get("exception.message"),
        Some("failed with Internal")
    );
}

#[tokio::test]
async fn client_classification_for_every_code() {
    let t = telemetry();
    for (code, _) in CODES {
        assert_eq!(call(code).await.is_ok(), code == Code::Ok);
    }
    for (_, name) in CODES {
        check(
            t,
            "test.Echo/Answer client",
            "grpc::call",
            name,
            name != "OK",
        );
    }
    assert_eq!(
        span_with_code(t, "test.Echo/Answer client", "OK").span_kind,
        SpanKind::Client
    );
    assert_eq!(t.logs_named("test.Echo/Answer client.exception").len(), 16);
}

/// An empty message gives no description.
#[instrument_errors(name = "grpc.empty_message")]
fn empty_message() -> Result<(), Status> {
    Err(Status::new(Code::Unavailable, ""))
}

#[test]
fn an_empty_message_is_no_description() {
    let t = telemetry();
    assert!(empty_message().is_err());
    let span = t.span("grpc.empty_message");
    assert_eq!(error_description(&span).as_deref(), Some(""));
    assert_eq!(attr(&span, "error.type"), Some(Value::from("UNAVAILABLE")));
}

// ----- A real round trip: a tonic server (served by axum over HTTP/2 on
// loopback) and a tonic client over a `Channel`, the codes crossing the wire.

/// Messages are UTF-8 strings (no protobuf codegen needed).
#[derive(Debug, Clone, Copy, Default)]
struct Utf8;

impl tonic::codec::Codec for Utf8 {
    type Encode = String;
    type Decode = String;
    type Encoder = Utf8;
    type Decoder = Utf8;
    fn encoder(&mut self) -> Utf8 {
        Utf8
    }
    fn decoder(&mut self) -> Utf8 {
        Utf8
    }
}

impl tonic::codec::Encoder for Utf8 {
    type Item = String;
    type Error = Status;
    fn encode(
        &mut self,
        item: String,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Status> {
        bytes::BufMut::put_slice(dst, item.as_bytes());
        Ok(())
    }
}

impl tonic::codec::Decoder for Utf8 {
    type Item = String;
    type Error = Status;
    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<String>, Status> {
        let len = bytes::Buf::remaining(src);
        let raw = bytes::Buf::copy_to_bytes(src, len);
        String::from_utf8(raw.to_vec())
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

/// The server method: the request names the code to answer with.
#[instrument_errors(
    name = "test.Wire/Answer",
    kind = server,
    ok_if = instrument_errors::grpc::server_handled,
    result_attributes = instrument_errors::grpc::response_attributes,
)]
async fn wire_answer(request: Request<String>) -> Result<Response<String>, Status> {
    let code = request
        .into_inner()
        .parse::<i32>()
        .map_err(|e| Status::internal(e.to_string()))?;
    answer(Code::from(code))
}

/// The client method, over a real `Channel`.
#[instrument_errors(
    name = "test.Wire/Answer client",
    kind = client,
    result_attributes = instrument_errors::grpc::response_attributes,
)]
async fn wire_call(
    channel: tonic::transport::Channel,
    code: Code,
) -> Result<Response<String>, Status> {
    unary(channel, "/test.Wire/Answer", code).await
}

/// One unary call of `path` over `channel`, asking for `code`.
async fn unary(
    channel: tonic::transport::Channel,
    path: &'static str,
    code: Code,
) -> Result<Response<String>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    grpc.unary(
        Request::new((code as i32).to_string()),
        http::uri::PathAndQuery::from_static(path),
        Utf8,
    )
    .await
}

/// Serves the unary method `handler` at `path` (a tonic server served by
/// axum over HTTP/2 on loopback) and returns a channel connected to it.
async fn serve<H, F>(path: &'static str, handler: H) -> tonic::transport::Channel
where
    H: Fn(Request<String>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Result<Response<String>, Status>> + Send + 'static,
{
    let service = tower::service_fn(move |request: http::Request<axum::body::Body>| {
        let handler = handler.clone();
        async move {
            let unary = tower::service_fn(handler);
            let response = tonic::server::Grpc::new(Utf8).unary(unary, request).await;
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let router = axum::Router::new().route_service(path, service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_over_tonic_for_every_code() {
    let t = telemetry();
    let channel = serve("/test.Wire/Answer", wire_answer).await;
    for (code, _) in CODES {
        let result = wire_call(channel.clone(), code).await;
        match &result {
            Ok(response) => assert_eq!(response.get_ref(), "done"),
            Err(status) => {
                assert_eq!(status.code(), code);
                assert_eq!(status.message(), format!("failed with {code:?}"));
            }
        }
    }
    for (_, name) in CODES {
        let failure = SERVER_FAILURES.contains(&name);
        check(t, "test.Wire/Answer", "grpc::wire_answer", name, failure);
        check(
            t,
            "test.Wire/Answer client",
            "grpc::wire_call",
            name,
            name != "OK",
        );
    }
    let server_logs = t.logs_named("test.Wire/Answer.exception");
    let failures = server_logs
        .iter()
        .filter(|l| l.severity == Some(Severity::Error))
        .count();
    assert_eq!(failures, 6);
    // The 10 codes `server_handled` accepts: one DEBUG record each.
    assert_eq!(server_logs.len(), 16);
    assert_eq!(t.logs_named("test.Wire/Answer client.exception").len(), 16);
}

// ----- The same round trip under the `grpc` flag (issue 17): no `ok_if`, no
// `result_attributes`; `rpc.response.status_code` on span and duration
// point.

/// The server method, classified by the flag.
#[instrument_errors(
    name = "test.Flag/Answer",
    kind = server, grpc,
    metric = "rpc.server.call.duration",
    metric_attributes("rpc.method" = "test.Flag/Answer"),
)]
async fn flag_answer(request: Request<String>) -> Result<Response<String>, Status> {
    let code = request
        .into_inner()
        .parse::<i32>()
        .map_err(|e| Status::internal(e.to_string()))?;
    answer(Code::from(code))
}

/// The client method, classified by the flag.
#[instrument_errors(
    name = "test.Flag/Answer client",
    kind = client, grpc,
    metric = "rpc.client.call.duration",
)]
async fn flag_call(
    channel: tonic::transport::Channel,
    code: Code,
) -> Result<Response<String>, Status> {
    unary(channel, "/test.Flag/Answer", code).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_under_the_flag_for_every_code() {
    let t = telemetry();
    let channel = serve("/test.Flag/Answer", flag_answer).await;
    for (code, _) in CODES {
        let result = flag_call(channel.clone(), code).await;
        assert_eq!(result.is_ok(), code == Code::Ok);
    }
    for (_, name) in CODES {
        for (span_name, metric, failure) in [
            (
                "test.Flag/Answer",
                "rpc.server.call.duration",
                SERVER_FAILURES.contains(&name),
            ),
            (
                "test.Flag/Answer client",
                "rpc.client.call.duration",
                name != "OK",
            ),
        ] {
            let span = span_with_code(t, span_name, name);
            let points = t.points(metric, &[("rpc.response.status_code", name)]);
            assert_eq!(points.len(), 1, "{span_name} {name}: {points:?}");
            assert_eq!(points[0].count, 1);
            if failure {
                assert_eq!(attr(&span, "error.type"), Some(Value::from(name)));
                assert_eq!(points[0].get("error.type"), Some(name));
                let expected = CODES
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map(|(c, _)| format!("failed with {c:?}"));
                assert_eq!(error_description(&span), expected, "{name}");
            } else {
                assert_eq!(span.status, SpanStatus::Unset, "{span_name} {name}");
                assert_eq!(attr(&span, "error.type"), None);
                assert_eq!(points[0].get("error.type"), None);
            }
        }
    }
    let server = t.points("rpc.server.call.duration", &[]);
    assert!(server
        .iter()
        .all(|p| p.get("rpc.method") == Some("test.Flag/Answer")));
    let logs = t.logs_named("test.Flag/Answer.exception");
    let at = |severity: Severity| logs.iter().filter(|l| l.severity == Some(severity)).count();
    assert_eq!((at(Severity::Error), at(Severity::Debug)), (6, 10));
    assert_eq!(logs.len(), 16);
    let client_logs = t.logs_named("test.Flag/Answer client.exception");
    assert_eq!(client_logs.len(), 16);
    assert!(client_logs
        .iter()
        .all(|l| l.severity == Some(Severity::Warn)));
}
