//! Heap allocations per call with the SDK installed: `#[instrument_errors]`
//! makes no more than the hand-written OpenTelemetry code it replaces
//! (`benches/common/ops.rs`, shared with the benchmarks), on success and on
//! failure, sync and async. Counts are deterministic, so this is an ordinary
//! test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

#[allow(dead_code)]
#[path = "../benches/common/ops.rs"]
mod ops;

use opentelemetry_sdk::trace::Sampler;

/// Counts the allocations made by the current thread: the SDK's own threads
/// and the other tests do not disturb the count.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn sdk() {
    static SDK: OnceLock<()> = OnceLock::new();
    SDK.get_or_init(|| {
        // Dropped at the end of each call, on the calling thread: nothing
        // is left queued between calls.
        std::mem::forget(ops::install_sdk(Sampler::AlwaysOn, ops::Spans::DropAtEnd));
    });
}

const CALLS: usize = 100;

/// Allocations per call of `op` (failing or not), after a first call that
/// resolves the call site and the SDK's first attribute sets.
fn per_call(op: ops::Op, fail: bool) -> usize {
    sdk();
    let _ = op(fail);
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..CALLS {
        assert_eq!(op(fail).is_err(), fail);
    }
    let n = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(n % CALLS, 0, "the same allocations every call");
    n / CALLS
}

fn compare(ours: ops::Op, hand_written: ops::Op, fail: bool, what: &str) {
    let ours = per_call(ours, fail);
    let hand = per_call(hand_written, fail);
    eprintln!("{what}: #[instrument_errors] {ours} allocations a call, hand-written {hand}");
    assert!(
        ours <= hand,
        "{what}: #[instrument_errors] allocates {ours} times a call, the hand-written code {hand}"
    );
}

#[test]
fn sync_success() {
    compare(ops::instrumented, ops::hand_written, false, "sync success");
}

#[test]
fn sync_failure() {
    compare(ops::instrumented, ops::hand_written, true, "sync failure");
}

#[test]
fn sync_failure_without_log_record() {
    compare(
        ops::instrumented_no_log,
        ops::hand_written,
        true,
        "sync failure, log = false",
    );
}

#[test]
fn async_success() {
    compare(
        ops::instrumented_async_op,
        ops::hand_written_async_op,
        false,
        "async success",
    );
}

#[test]
fn async_failure() {
    compare(
        ops::instrumented_async_op,
        ops::hand_written_async_op,
        true,
        "async failure",
    );
}
