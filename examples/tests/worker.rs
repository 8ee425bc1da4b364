//! The `worker` example as a user runs it
//! (`cargo run -p instrument-errors-examples --bin worker`): its report
//! shows the consumer's spans in the producer's traces, the batch linked to
//! its messages, and the retries recorded as the conventions mean them.

use std::process::Command;

fn lines_with<'a>(stdout: &'a str, start: &str) -> Vec<&'a str> {
    stdout.lines().filter(|l| l.starts_with(start)).collect()
}

/// The value after `key=` on a report line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let at = line.find(&format!("{key}=")).expect(key) + key.len() + 1;
    line[at..].split_whitespace().next().expect("a value")
}

#[test]
fn the_worker_keeps_traces_through_messages() {
    let output = Command::new(env!("CARGO_BIN_EXE_worker"))
        .output()
        .expect("the worker runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    for outcome in [
        "order 1: processed",
        "order 2: processed",
        "order 3: failed: the store is busy",
        "order 4: failed: the order is invalid",
        "batch of 2: processed",
    ] {
        assert!(stdout.contains(outcome), "{stdout}");
    }

    // Every consumer span is a child of a producer span, in its trace.
    let publish_traces: Vec<&str> = lines_with(&stdout, "orders publish ")
        .into_iter()
        .map(|l| field(l, "trace"))
        .collect();
    let processes = lines_with(&stdout, "orders process  ");
    assert_eq!(processes.len(), 4, "{stdout}");
    for line in &processes {
        assert!(line.contains("parent=orders publish"), "{line}");
        assert!(publish_traces.contains(&field(line, "trace")), "{line}");
    }
    // The batch: its own trace, linked to its two messages' producers.
    let batch = lines_with(&stdout, "orders process batch");
    assert_eq!(batch.len(), 1);
    assert!(
        batch[0].contains(r#"links=["orders publish", "orders publish"]"#),
        "{}",
        batch[0]
    );
    assert!(!publish_traces.contains(&field(batch[0], "trace")));

    // Retries: order 2 failed once and succeeded; order 3 failed three times.
    let busy = lines_with(&stdout, "orders process attempt ")
        .into_iter()
        .filter(|l| l.ends_with("error.type=busy"))
        .count();
    assert_eq!(busy, 4, "{stdout}");
    let records = lines_with(&stdout, "orders process attempt.exception");
    let warn = records.iter().filter(|l| l.contains(" WARN ")).count();
    let error = records.iter().filter(|l| l.contains(" ERROR ")).count();
    // Three retried attempts handled by the loop; order 3's last attempt and
    // order 4's escape the consumer operation.
    assert_eq!((warn, error), (3, 2), "{stdout}");
}
