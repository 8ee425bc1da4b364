//! The retry pattern as the conventions mean it (issue 22): each attempt is
//! its own instrumented operation, the retry loop another. A retried
//! attempt records its failure (its exception record's fate: handled by the
//! loop, `WARN`); the operation records only its final outcome, so a
//! message that succeeds on its second attempt is a success on the
//! operation's span and duration point.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use instrument_errors::{instrument_errors, ErrorType};
use instrument_errors_tests::{attr, telemetry, Log};
use opentelemetry::logs::Severity;
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;

#[derive(Debug, thiserror::Error, ErrorType)]
enum ProcessError {
    #[error("the store is busy")]
    #[error_type("busy")]
    Busy,
    #[error("the message is invalid")]
    Invalid,
}

impl ProcessError {
    fn is_retryable(&self) -> bool {
        matches!(self, ProcessError::Busy)
    }
}

/// A message whose first `busy` attempts fail with `Busy`, then `Invalid`
/// when `invalid`, else succeed.
struct Message {
    busy: u32,
    invalid: bool,
    attempts: AtomicU32,
}

impl Message {
    fn new(busy: u32, invalid: bool) -> Self {
        Message {
            busy,
            invalid,
            attempts: AtomicU32::new(0),
        }
    }
}

const MAX_ATTEMPTS: u32 = 3;

/// One attempt: its own operation.
#[instrument_errors(name = "retry.attempt", metric = "retry.attempt.duration")]
async fn attempt(message: &Message) -> Result<(), ProcessError> {
    let n = message.attempts.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    if n < message.busy {
        Err(ProcessError::Busy)
    } else if message.invalid {
        Err(ProcessError::Invalid)
    } else {
        Ok(())
    }
}

/// The operation: the retry loop, recording only its final outcome.
#[instrument_errors(name = "retry.process", kind = consumer, metric = "retry.process.duration")]
async fn process(message: &Message) -> Result<(), ProcessError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt(message).await {
            Err(e) if e.is_retryable() && tries < MAX_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            outcome => return outcome,
        }
    }
}

fn run(message: &Message) -> Result<(), ProcessError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(process(message))
}

fn error_type(span: &SpanData) -> Option<String> {
    attr(span, "error.type").map(|v| v.to_string())
}

fn tied(log: &Log, span: &SpanData) -> bool {
    log.trace_id == Some(span.span_context.trace_id())
        && log.span_id == Some(span.span_context.span_id())
}

/// The last `retry.process` span, its attempts (in order) and the exception
/// records of its trace.
fn last_run() -> (SpanData, Vec<SpanData>, Vec<Log>) {
    let t = telemetry();
    let process = t
        .spans_named("retry.process")
        .pop()
        .expect("a process span");
    let trace = process.span_context.trace_id();
    let attempts: Vec<SpanData> = t
        .spans_named("retry.attempt")
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .collect();
    for a in &attempts {
        assert_eq!(a.parent_span_id, process.span_context.span_id());
        assert!(a.start_time >= process.start_time && a.end_time <= process.end_time);
    }
    let logs = t
        .logs_named("retry.attempt.exception")
        .into_iter()
        .chain(t.logs_named("retry.process.exception"))
        .filter(|l| l.trace_id == Some(trace))
        .collect();
    (process, attempts, logs)
}

#[test]
fn retries_record_attempts_and_the_final_outcome() {
    let t = telemetry();

    // Succeeds on its second attempt: a success for the operation.
    assert!(run(&Message::new(1, false)).is_ok());
    let (process, attempts, logs) = last_run();
    assert_eq!(process.status, Status::Unset);
    assert_eq!(error_type(&process), None);
    assert_eq!(attempts.len(), 2);
    assert!(
        matches!(&attempts[0].status, Status::Error { description } if description == "the store is busy")
    );
    assert_eq!(error_type(&attempts[0]).as_deref(), Some("busy"));
    assert_eq!(attempts[1].status, Status::Unset);
    assert_eq!(error_type(&attempts[1]), None);
    // The retried attempt's record: handled by the loop, WARN, tied to it.
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].severity, Some(Severity::Warn));
    assert_eq!(
        logs[0].event_name.as_deref(),
        Some("retry.attempt.exception")
    );
    assert_eq!(logs[0].get("exception.type"), Some("busy"));
    assert!(tied(&logs[0], &attempts[0]));

    // Busy three times: the operation fails with the last attempt's error,
    // one ERROR record (it escaped a consumer operation) tied to the last
    // attempt; the two retried ones are WARN.
    assert!(matches!(
        run(&Message::new(5, false)),
        Err(ProcessError::Busy)
    ));
    let (process, attempts, logs) = last_run();
    assert!(
        matches!(&process.status, Status::Error { description } if description == "the store is busy")
    );
    assert_eq!(error_type(&process).as_deref(), Some("busy"));
    assert_eq!(attempts.len(), 3);
    assert!(attempts
        .iter()
        .all(|a| error_type(a).as_deref() == Some("busy")));
    assert_eq!(logs.len(), 3, "{logs:?}");
    let severities: Vec<_> = attempts
        .iter()
        .map(|a| {
            let tied: Vec<_> = logs.iter().filter(|l| tied(l, a)).collect();
            assert_eq!(tied.len(), 1);
            tied[0].severity
        })
        .collect();
    assert_eq!(
        severities,
        [
            Some(Severity::Warn),
            Some(Severity::Warn),
            Some(Severity::Error)
        ]
    );

    // Not retryable: one attempt, the operation fails at once.
    assert!(matches!(
        run(&Message::new(0, true)),
        Err(ProcessError::Invalid)
    ));
    let (process, attempts, logs) = last_run();
    assert_eq!(error_type(&process).as_deref(), Some("invalid"));
    assert_eq!(attempts.len(), 1);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].severity, Some(Severity::Error));
    assert!(tied(&logs[0], &attempts[0]));

    // Duration points: one per attempt and one per operation, with the
    // final outcome only on the operation's.
    let count = |metric: &str, error_type: Option<&str>| -> u64 {
        t.points(metric, &[])
            .iter()
            .filter(|p| p.get("error.type") == error_type)
            .map(|p| p.count)
            .sum()
    };
    assert_eq!(count("retry.process.duration", None), 1);
    assert_eq!(count("retry.process.duration", Some("busy")), 1);
    assert_eq!(count("retry.process.duration", Some("invalid")), 1);
    assert_eq!(count("retry.attempt.duration", None), 1);
    assert_eq!(count("retry.attempt.duration", Some("busy")), 1 + 3);
    assert_eq!(count("retry.attempt.duration", Some("invalid")), 1);
}
