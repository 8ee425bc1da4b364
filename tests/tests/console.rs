//! Issue 19: the line a person reads in the console. With only a
//! `tracing_subscriber::fmt` subscriber (no OpenTelemetry provider), an
//! exception record prints as `<span name> failed: <message>`, then its
//! fields.

use std::io::Write;
use std::sync::{Arc, Mutex};

use instrument_errors::{instrument_errors, ErrorType};

#[derive(Debug, ErrorType)]
enum StoreError {
    #[error_type("connection_refused")]
    Refused,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection refused")
    }
}

#[instrument_errors(name = "store.get")]
fn get() -> Result<u32, StoreError> {
    Err(StoreError::Refused)
}

#[instrument_errors(name = "store.put", description = false)]
fn put() -> Result<u32, StoreError> {
    Err(StoreError::Refused)
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_fmt_line_names_the_operation_and_the_failure() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .init();

    assert!(get().is_err());
    assert!(put().is_err());

    let out = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(
        lines[0],
        " WARN console: store.get failed: connection refused \
         exception.type=\"connection_refused\" exception.message=\"connection refused\" \
         code.function.name=\"console::get\""
    );
    // `description = false`: the type instead of the message.
    assert_eq!(
        lines[1],
        " WARN console: store.put failed: connection_refused \
         exception.type=\"connection_refused\" code.function.name=\"console::put\""
    );
}
