//! An OTLP receiver for the end-to-end tests, on loopback: OTLP/gRPC through
//! the `opentelemetry-proto` tonic services, OTLP/HTTP (`/v1/traces`,
//! `/v1/metrics`, `/v1/logs`, protobuf bodies decoded with prost) through
//! hyper. It keeps every request it decodes, can answer slowly, and can be
//! stopped hard (every connection dropped, like a crashed collector) and
//! started again on the same port.

#![allow(dead_code)] // each test binary uses part of it

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use instrument_errors_examples::telemetry::Protocol;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{metric, HistogramDataPoint};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

pub mod end_to_end;

/// Everything a receiver decoded, kept across its restarts.
#[derive(Debug, Default)]
pub struct Received {
    traces: Mutex<Vec<ExportTraceServiceRequest>>,
    metrics: Mutex<Vec<ExportMetricsServiceRequest>>,
    logs: Mutex<Vec<ExportLogsServiceRequest>>,
    /// Export requests that reached a handler, answered or not.
    requests: AtomicUsize,
    /// How long each handler waits before it answers, in milliseconds.
    delay_ms: AtomicU64,
}

/// A span as it arrived, with its resource's `service.name` and its scope.
#[derive(Debug, Clone)]
pub struct WireSpan {
    pub service_name: Option<String>,
    pub scope: InstrumentationScope,
    pub span: Span,
}

/// A histogram point as it arrived, with its metric's name and unit.
#[derive(Debug, Clone)]
pub struct WirePoint {
    pub metric: String,
    pub unit: String,
    pub scope: InstrumentationScope,
    pub point: HistogramDataPoint,
}

/// A log record as it arrived, with its scope.
#[derive(Debug, Clone)]
pub struct WireLog {
    pub scope: InstrumentationScope,
    pub record: LogRecord,
}

impl Received {
    pub fn new() -> Arc<Received> {
        Arc::new(Received::default())
    }

    /// Makes every handler wait `delay` before answering.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    async fn pause(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }

    pub fn spans(&self) -> Vec<WireSpan> {
        let mut out = Vec::new();
        for request in self.traces.lock().unwrap().iter() {
            for resource in &request.resource_spans {
                let service_name = resource
                    .resource
                    .as_ref()
                    .and_then(|r| string_attribute(&r.attributes, "service.name"));
                for scope in &resource.scope_spans {
                    for span in &scope.spans {
                        out.push(WireSpan {
                            service_name: service_name.clone(),
                            scope: scope.scope.clone().unwrap_or_default(),
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    pub fn points(&self) -> Vec<WirePoint> {
        let mut out = Vec::new();
        for request in self.metrics.lock().unwrap().iter() {
            for resource in &request.resource_metrics {
                for scope in &resource.scope_metrics {
                    for m in &scope.metrics {
                        if let Some(metric::Data::Histogram(h)) = &m.data {
                            for point in &h.data_points {
                                out.push(WirePoint {
                                    metric: m.name.clone(),
                                    unit: m.unit.clone(),
                                    scope: scope.scope.clone().unwrap_or_default(),
                                    point: point.clone(),
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    pub fn logs(&self) -> Vec<WireLog> {
        let mut out = Vec::new();
        for request in self.logs.lock().unwrap().iter() {
            for resource in &request.resource_logs {
                for scope in &resource.scope_logs {
                    for record in &scope.log_records {
                        out.push(WireLog {
                            scope: scope.scope.clone().unwrap_or_default(),
                            record: record.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// Waits (bounded: `limit`) until `done` holds; returns whether it did.
    pub fn wait_until(&self, limit: Duration, done: impl Fn(&Received) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if done(self) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The string value of `key` among `attributes`.
pub fn string_attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
        .map(|v| match v {
            any_value::Value::StringValue(s) => s.clone(),
            other => format!("{other:?}"),
        })
}

#[derive(Clone)]
struct Sink(Arc<Received>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.pause().await;
        self.0.traces.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.pause().await;
        self.0.metrics.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.0.pause().await;
        self.0.logs.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// One OTLP/HTTP request: decode the protobuf body by path.
async fn http_export(
    received: Arc<Received>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(status(400)),
    };
    received.pause().await;
    let response = match path.as_str() {
        "/v1/traces" => ExportTraceServiceRequest::decode(body).map(|r| {
            received.traces.lock().unwrap().push(r);
            ExportTraceServiceResponse::default().encode_to_vec()
        }),
        "/v1/metrics" => ExportMetricsServiceRequest::decode(body).map(|r| {
            received.metrics.lock().unwrap().push(r);
            ExportMetricsServiceResponse::default().encode_to_vec()
        }),
        "/v1/logs" => ExportLogsServiceRequest::decode(body).map(|r| {
            received.logs.lock().unwrap().push(r);
            ExportLogsServiceResponse::default().encode_to_vec()
        }),
        _ => return Ok(status(404)),
    };
    Ok(match response {
        Ok(bytes) => hyper::Response::builder()
            .header("content-type", "application/x-protobuf")
            .body(Full::new(Bytes::from(bytes)))
            .expect("a valid response"),
        Err(_) => status(400),
    })
}

fn status(code: u16) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(code)
        .body(Full::new(Bytes::new()))
        .expect("a valid response")
}

/// A running receiver. Dropping it (or [`Receiver::stop`]) closes the
/// listener and every connection at once.
pub struct Receiver {
    pub addr: SocketAddr,
    runtime: tokio::runtime::Handle,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver for `protocol` on `addr` (port 0: any free port),
    /// on the runtime of `runtime`, storing into `received`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        protocol: Protocol,
        addr: SocketAddr,
        received: Arc<Received>,
    ) -> Receiver {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let task = runtime.spawn(async move {
            // Connections live in this set: aborting the accept loop drops
            // them all.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let io = TokioIo::new(stream);
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let received = received.clone();
                connections.spawn(async move {
                    match protocol {
                        Protocol::Grpc => {
                            let sink = Sink(received);
                            let routes =
                                tonic::service::Routes::new(TraceServiceServer::new(sink.clone()))
                                    .add_service(MetricsServiceServer::new(sink.clone()))
                                    .add_service(LogsServiceServer::new(sink));
                            let _ = builder
                                .serve_connection(io, TowerToHyperService::new(routes))
                                .await;
                        }
                        Protocol::HttpProtobuf => {
                            let service = hyper::service::service_fn(move |request| {
                                http_export(received.clone(), request)
                            });
                            let _ = builder.serve_connection(io, service).await;
                        }
                    }
                });
                // Reap finished connections so the set stays small.
                while connections.try_join_next().is_some() {}
            }
        });
        Receiver {
            addr,
            runtime: runtime.clone(),
            task,
        }
    }

    /// The base URL the exporters are given.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops at once: the listener and every open connection are dropped
    /// when this returns, so the port can be bound again.
    pub fn stop(mut self) {
        self.task.abort();
        let task = &mut self.task;
        let _ = self.runtime.block_on(task);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs `f` on another thread and fails the test if it has not returned
/// within `limit`: a generous "did not hang" bound, not a timing.
pub fn did_not_hang<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!("{what} did not return within {limit:?}"),
    }
}
