//! The `http_service` example (issue 17): an axum service and a reqwest
//! client on loopback. Its report must show each client span and the server
//! span it caused in one trace, and the statuses the `http` flag gives.

use std::process::Command;

#[test]
fn client_and_server_spans_are_one_trace() {
    let output = Command::new(env!("CARGO_BIN_EXE_http_service"))
        .output()
        .expect("run the example");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let traces = stdout
        .split("===== traces =====")
        .nth(1)
        .and_then(|rest| rest.split("===== duration points =====").next())
        .expect("a traces section");
    // One trace per request, each starting with the client span.
    let blocks: Vec<Vec<&str>> = traces
        .split("trace ")
        .skip(1)
        .map(|block| {
            block
                .lines()
                .skip(1)
                .filter(|l| !l.trim().is_empty())
                .collect()
        })
        .collect();
    assert_eq!(blocks.len(), 9, "{traces}");
    let mut served = 0;
    for block in &blocks {
        assert!(block[0].starts_with("  HTTP client "), "{block:?}");
        assert!(block[0].contains("Client"), "{block:?}");
        if let Some(server) = block.get(1) {
            // The server span, one level below the client span.
            assert!(
                server.starts_with("    ") && server.contains("Server"),
                "{block:?}"
            );
            served += 1;
        }
    }
    // Every request but the refused one reached the server.
    assert_eq!(served, 8, "{traces}");
    let line = |needle: &str, code: &str| {
        blocks
            .iter()
            .flatten()
            .find(|l| {
                l.contains(needle) && l.ends_with(&format!("http.response.status_code={code}"))
            })
            .unwrap_or_else(|| panic!("{needle} {code} in {traces}"))
            .to_owned()
    };
    // A 404 is handled by the server, a failure for the client.
    assert!(line("GET /items/{id}", "404").contains("status=Unset"));
    assert!(line("HTTP client", "404").contains("error.type=404"));
    // The error's own error.type and message.
    let unavailable = line("GET /items/{id}", "503");
    assert!(
        unavailable.contains("error.type=store_unavailable"),
        "{unavailable}"
    );
    assert!(
        unavailable.contains("the store is unavailable"),
        "{unavailable}"
    );
    // axum's `(StatusCode, String)`: the message is the description.
    assert!(line("POST /items", "500").contains("the store rejected the write"));
    assert!(line("POST /items", "400").contains("status=Unset"));
    assert!(stdout.contains("error.type=std::io::ErrorKind::ConnectionRefused"));
    // The duration points carry the route and the status code.
    assert!(stdout.contains(
        "http.server.request.duration count=1 error.type=store_unavailable \
         http.request.method=GET http.response.status_code=503 http.route=/items/{id}"
    ));
}
