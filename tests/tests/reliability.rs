//! Reliability against the real SDK (in-memory exporters): the `error.type`
//! cardinality bound, odd errors, and the stack an instrumented frame uses.

use std::fmt;
use std::sync::{Arc, OnceLock};

use instrument_errors::exception::{MESSAGE_LIMIT, SOURCE_DEPTH_LIMIT, STACKTRACE_LIMIT};
use instrument_errors::{instrument_errors, ERROR_TYPE_LIMIT, OTHER};
use instrument_errors_tests::{attr, error_description, telemetry, Log};
use opentelemetry::trace::Status;

/// The text before the marker that ends a cut text, and where it was cut:
/// `… [cut at N bytes]` with N the bytes kept. `None` when not cut.
fn cut_at(text: &str) -> Option<(&str, usize)> {
    let (kept, at) = text.strip_suffix(" bytes]")?.rsplit_once("… [cut at ")?;
    let at: usize = at.parse().ok()?;
    assert_eq!(kept.len(), at, "the marker says where: {at} bytes kept");
    Some((kept, at))
}

// ---- cardinality -------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct Coded(u32);
impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "coded {}", self.0)
    }
}

#[instrument_errors(
    name = "rel.cardinality",
    metric = "rel.cardinality.duration",
    error_type = |e: &Coded| format!("code_{}", e.0),
)]
fn coded(n: u32) -> Result<(), Coded> {
    Err(Coded(n))
}

#[test]
fn error_types_past_the_limit_are_other_on_span_metric_and_log() {
    let t = telemetry();
    let limit = u32::try_from(ERROR_TYPE_LIMIT).unwrap();
    let extra = 20;
    // 0..limit are admitted, limit..limit+extra are not, then known ones again
    let calls: Vec<u32> = (0..limit + extra).chain([3, 0, limit - 1]).collect();
    for &n in &calls {
        assert_eq!(coded(n), Err(Coded(n)));
    }
    let expected: Vec<String> = calls
        .iter()
        .map(|&n| {
            if n < limit {
                format!("code_{n}")
            } else {
                OTHER.to_owned()
            }
        })
        .collect();

    let spans: Vec<String> = t
        .spans_named("rel.cardinality")
        .iter()
        .map(|s| {
            assert!(matches!(s.status, Status::Error { .. }));
            attr(s, "error.type").expect("error.type").to_string()
        })
        .collect();
    assert_eq!(spans, expected, "span error.type");

    let logs: Vec<String> = t
        .logs_named("rel.cardinality.exception")
        .iter()
        .map(|l| l.get("exception.type").expect("exception.type").to_owned())
        .collect();
    assert_eq!(logs, expected, "log exception.type");

    let mut points: Vec<(String, u64)> = t
        .points("rel.cardinality.duration", &[])
        .iter()
        .map(|p| (p.get("error.type").expect("error.type").to_owned(), p.count))
        .collect();
    points.sort();
    let mut expected_points: Vec<(String, u64)> = (0..limit)
        .map(|n| {
            (
                format!("code_{n}"),
                if [3, 0, limit - 1].contains(&n) { 2 } else { 1 },
            )
        })
        .chain([(OTHER.to_owned(), u64::from(extra))])
        .collect();
    expected_points.sort();
    assert_eq!(points, expected_points, "metric points per error.type");
}

// ---- odd errors ----------------------------------------------------------------

/// The description, the log record's message and stacktrace of the one
/// failure recorded under `name`, checked against the bounds.
fn bounded_record(name: &str) -> (String, Log) {
    let t = telemetry();
    let span = t.span(name);
    assert!(attr(&span, "error.type").is_some(), "{name}: no error.type");
    let description = error_description(&span).expect("status Error");
    let kept = cut_at(&description).map_or(description.len(), |(_, at)| at);
    assert!(
        kept <= MESSAGE_LIMIT,
        "{name}: description of {} bytes",
        description.len()
    );
    let mut logs = t.logs_named(&format!("{name}.exception"));
    assert_eq!(logs.len(), 1, "{name}: one exception record");
    let log = logs.remove(0);
    assert_eq!(log.get("exception.message"), Some(description.as_str()));
    if let Some(st) = log.get("exception.stacktrace") {
        let kept = cut_at(st).map_or(st.len(), |(_, at)| at);
        assert!(
            kept <= STACKTRACE_LIMIT,
            "{name}: stacktrace of {} bytes",
            st.len()
        );
    }
    (description, log)
}

#[derive(Debug, PartialEq)]
struct PanickyDisplay(u32);
impl fmt::Display for PanickyDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display of PanickyDisplay({})", self.0)
    }
}
impl std::error::Error for PanickyDisplay {}

#[instrument_errors(name = "rel.odd.panicky")]
fn panicky() -> Result<(), PanickyDisplay> {
    Err(PanickyDisplay(7))
}

#[test]
fn a_display_that_panics_is_contained() {
    telemetry();
    assert_eq!(panicky(), Err(PanickyDisplay(7)));
    let (description, _) = bounded_record("rel.odd.panicky");
    assert!(description.contains("panicked"), "{description}");
}

/// Writes `total` bytes in 64-byte pieces; `careless` ignores write errors.
#[derive(Debug, PartialEq)]
struct Huge {
    total: usize,
    careless: bool,
}
impl fmt::Display for Huge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let piece = "é123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-";
        for _ in 0..self.total / piece.len() {
            if self.careless {
                let _ = f.write_str(piece);
            } else {
                f.write_str(piece)?;
            }
        }
        Ok(())
    }
}
impl std::error::Error for Huge {}

#[instrument_errors(name = "rel.odd.huge")]
fn huge() -> Result<(), Huge> {
    Err(Huge {
        total: 8 << 20,
        careless: false,
    })
}

#[instrument_errors(name = "rel.odd.huge_careless")]
fn huge_careless() -> Result<(), Huge> {
    Err(Huge {
        total: 4 << 20,
        careless: true,
    })
}

#[test]
fn megabyte_messages_are_cut() {
    telemetry();
    assert_eq!(
        huge(),
        Err(Huge {
            total: 8 << 20,
            careless: false
        })
    );
    let (description, _) = bounded_record("rel.odd.huge");
    let (_, at) = cut_at(&description).expect("cut and marked");
    assert!(at > MESSAGE_LIMIT - 64, "kept up to the limit");
    assert!(
        description.ends_with(" [cut at 4096 bytes]"),
        "{description:?}"
    );

    assert_eq!(
        huge_careless(),
        Err(Huge {
            total: 4 << 20,
            careless: true
        })
    );
    let (description, _) = bounded_record("rel.odd.huge_careless");
    assert!(cut_at(&description).is_some(), "cut and marked");
}

#[derive(Debug, PartialEq)]
struct Text(&'static str);
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Text {}

const CONTROL: &str = "line 1\nline 2\r\0nul \u{1b}[31mred\u{1b}[0m \u{7f}\u{fffd}\u{202e}rtl\t";

#[instrument_errors(name = "rel.odd.control")]
fn control() -> Result<(), Text> {
    Err(Text(CONTROL))
}

#[instrument_errors(name = "rel.odd.empty")]
fn empty() -> Result<(), Text> {
    Err(Text(""))
}

#[test]
fn control_characters_and_empty_messages_are_recorded_verbatim() {
    telemetry();
    assert_eq!(control(), Err(Text(CONTROL)));
    let (description, log) = bounded_record("rel.odd.control");
    assert_eq!(description, CONTROL);
    assert_eq!(log.get("exception.message"), Some(CONTROL));

    assert_eq!(empty(), Err(Text("")));
    let (description, log) = bounded_record("rel.odd.empty");
    assert_eq!(description, "");
    assert_eq!(log.get("exception.type"), Some("reliability::Text"));
}

#[instrument_errors(name = "rel.odd.panic_message")]
fn long_panic() -> Result<(), Text> {
    panic!("{}", "p".repeat(64 << 10))
}

#[test]
fn a_long_panic_message_is_cut_and_the_panic_continues() {
    telemetry();
    let payload = std::panic::catch_unwind(long_panic).expect_err("panics");
    // the same payload continues
    assert_eq!(
        payload.downcast_ref::<String>().map(String::len),
        Some(64 << 10)
    );
    let (description, log) = bounded_record("rel.odd.panic_message");
    assert!(description.ends_with("p… [cut at 4096 bytes]"));
    assert_eq!(log.get("exception.type"), Some("panic"));
}

/// A `source()` chain 100 000 levels long, each level with a 5 000-byte
/// message; the levels live in one leaked vector, so dropping is not deep.
#[derive(Debug, PartialEq)]
struct Deep(usize);
const DEEP_LEVELS: usize = 100_000;
fn deep_levels() -> &'static [Deep] {
    static LEVELS: OnceLock<Vec<Deep>> = OnceLock::new();
    LEVELS.get_or_init(|| (0..DEEP_LEVELS).map(Deep).collect())
}
impl fmt::Display for Deep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "level {} ", self.0)?;
        f.write_str(&"x".repeat(5_000))
    }
}
impl std::error::Error for Deep {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        deep_levels()
            .get(self.0 + 1)
            .map(|d| d as &(dyn std::error::Error + 'static))
    }
}

#[instrument_errors(name = "rel.odd.deep")]
fn deep_chain() -> Result<(), &'static Deep> {
    Err(&deep_levels()[0])
}

/// A chain that loops through interior mutability: a → b → a → …
#[derive(Debug)]
struct Node {
    name: &'static str,
    next: OnceLock<Arc<Node>>,
}
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.name)
    }
}
impl std::error::Error for Node {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next
            .get()
            .map(|n| &**n as &(dyn std::error::Error + 'static))
    }
}

#[instrument_errors(name = "rel.odd.cyclic")]
fn cyclic(node: Arc<Node>) -> Result<(), Arc<Node>> {
    Err(node)
}

#[test]
fn long_and_cyclic_source_chains_are_bounded() {
    telemetry();
    let returned = deep_chain().unwrap_err();
    assert!(
        std::ptr::eq(returned, &deep_levels()[0]),
        "the same error comes back"
    );
    let (description, log) = bounded_record("rel.odd.deep");
    assert!(description.starts_with("level 0 xxx"));
    let st = log.get("exception.stacktrace").expect("a source chain");
    assert!(
        st.starts_with("caused by (0): level 1 xxx"),
        "{}",
        &st[..40]
    );
    let (_, at) = cut_at(st).expect("a cut chain ends with the marker");
    assert!(at <= STACKTRACE_LIMIT && at > STACKTRACE_LIMIT - 64);

    let a = Arc::new(Node {
        name: "a",
        next: OnceLock::new(),
    });
    let b = Arc::new(Node {
        name: "b",
        next: OnceLock::new(),
    });
    a.next.set(Arc::clone(&b)).unwrap();
    b.next.set(Arc::clone(&a)).unwrap();
    let returned = cyclic(Arc::clone(&a)).unwrap_err();
    assert!(Arc::ptr_eq(&returned, &a), "the same error comes back");
    let (description, log) = bounded_record("rel.odd.cyclic");
    assert_eq!(description, "node a");
    let st = log.get("exception.stacktrace").expect("a source chain");
    assert_eq!(st.lines().count(), SOURCE_DEPTH_LIMIT + 1, "{st}");
    assert!(st.ends_with("\n… [cut at 32 levels]"), "{st}");
    assert!(st.starts_with("caused by (0): node b\ncaused by (1): node a\n"));
    // The cycle itself is never freed (it is the test's own leak).
}

// ---- stack ---------------------------------------------------------------------

/// The bound on the extra stack an instrumented call adds to a recursion,
/// per level, as documented in the runtime's "Stack" section.
const STACK_BOUND: usize = if cfg!(debug_assertions) { 2048 } else { 512 };

#[derive(Debug, PartialEq)]
struct Bottom;
impl fmt::Display for Bottom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bottom")
    }
}

fn here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

#[inline(never)]
fn plain_recursion(n: u32, addresses: &mut Vec<usize>) -> Result<u32, Bottom> {
    addresses.push(here());
    if n == 0 {
        return Err(Bottom);
    }
    plain_recursion(n - 1, addresses).map(|d| d + 1)
}

#[instrument_errors(name = "rel.stack")]
fn instrumented_recursion(n: u32, addresses: &mut Vec<usize>) -> Result<u32, Bottom> {
    addresses.push(here());
    if n == 0 {
        return Err(Bottom);
    }
    instrumented_recursion(n - 1, addresses).map(|d| d + 1)
}

/// Stack bytes per level of `f` over `depth` levels.
fn per_level(depth: u32, f: fn(u32, &mut Vec<usize>) -> Result<u32, Bottom>) -> usize {
    let mut addresses = Vec::with_capacity(depth as usize + 1);
    assert_eq!(f(depth, &mut addresses), Err(Bottom));
    let first = addresses[1];
    let last = *addresses.last().unwrap();
    // the stack grows down on every platform this runs on
    assert!(first > last);
    (first - last) / (depth as usize - 1)
}

#[test]
fn instrumented_recursion_stack_per_level_is_bounded() {
    telemetry();
    let depth = 200;
    let plain = per_level(depth, plain_recursion);
    let instrumented = per_level(depth, instrumented_recursion);
    let overhead = instrumented.saturating_sub(plain);
    eprintln!(
        "stack per level: plain {plain} B, instrumented {instrumented} B, overhead {overhead} B \
         (bound {STACK_BOUND} B)"
    );
    assert!(
        overhead <= STACK_BOUND,
        "an instrumented level costs {overhead} more bytes of stack than a plain one"
    );

    // Deep recursion fits in the stack the bound promises: plain + bound per
    // level, plus a fixed allowance for the failure path at the bottom
    // (the SDK, the tracing subscriber, the exporters).
    let depth = 5_000;
    let stack = depth as usize * (plain + STACK_BOUND) + (1 << 20);
    let result = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let mut addresses = Vec::with_capacity(depth as usize + 1);
            instrumented_recursion(depth, &mut addresses)
        })
        .unwrap()
        .join()
        .expect("the recursion completed");
    assert_eq!(result, Err(Bottom));
    assert_eq!(
        telemetry().spans_named("rel.stack").len(),
        201 + depth as usize + 1
    );
}
