//! Heap allocations per call with no provider installed (the OpenTelemetry
//! no-op globals): none, sync or async. Counts are deterministic, so this is
//! an ordinary test; the timing side is in `benches/no_provider.rs`.
//!
//! This binary must never install a provider: instrument-errors resolves the
//! globals once per call site, and the point is the no-op ones.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};

use instrument_errors::{instrument_errors, ErrorType};

/// Counts the allocations made by the current thread (tests run on several
/// threads at once; each counts its own).
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

/// Allocations made by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[derive(Debug, ErrorType)]
enum Error {
    #[error_type("timeout")]
    TimedOut,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Error {}

#[instrument_errors]
fn sync_op(fail: bool) -> Result<u32, Error> {
    if fail {
        Err(Error::TimedOut)
    } else {
        Ok(1)
    }
}

// The attribute's value allocates, but is only evaluated for a recording span.
#[instrument_errors(attributes("op.id" = id.to_string()))]
fn sync_op_with_attribute(id: u32) -> Result<u32, Error> {
    Ok(id)
}

#[instrument_errors]
async fn async_op(fail: bool) -> Result<u32, Error> {
    if fail {
        Err(Error::TimedOut)
    } else {
        Ok(1)
    }
}

/// Polls `fut` to completion with a waker that does nothing (it is ready at
/// its first poll).
fn poll_to_end<F: Future>(fut: F) -> F::Output {
    fn raw() -> RawWaker {
        fn clone(_: *const ()) -> RawWaker {
            raw()
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    // SAFETY: no function of the vtable touches the data pointer.
    let waker = unsafe { Waker::from_raw(raw()) };
    let mut task = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut task) {
            return out;
        }
    }
}

#[test]
fn the_counter_counts() {
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8]))), 1);
}

#[test]
fn no_provider_is_detected() {
    // The first call resolves the call site (it may allocate, once).
    let _ = sync_op(false);
    assert_eq!(
        allocations(|| {
            let _ = sync_op(false);
        }),
        0
    );
}

#[test]
fn sync_success_allocates_nothing() {
    let _ = sync_op(false);
    let n = allocations(|| {
        for _ in 0..1000 {
            assert!(sync_op(false).is_ok());
        }
    });
    assert_eq!(n, 0, "allocations in 1000 successful calls");
}

#[test]
fn sync_failure_allocates_nothing() {
    let _ = sync_op(true);
    let n = allocations(|| {
        for _ in 0..1000 {
            assert!(sync_op(true).is_err());
        }
    });
    assert_eq!(n, 0, "allocations in 1000 failed calls");
}

#[test]
fn attributes_are_not_evaluated_into_allocations() {
    let _ = sync_op_with_attribute(1);
    let n = allocations(|| {
        for i in 0..1000 {
            assert!(sync_op_with_attribute(i).is_ok());
        }
    });
    assert_eq!(n, 0, "allocations in 1000 calls with an attribute");
}

#[test]
fn async_success_allocates_nothing() {
    let _ = poll_to_end(async_op(false));
    let n = allocations(|| {
        for _ in 0..1000 {
            assert!(poll_to_end(async_op(false)).is_ok());
        }
    });
    assert_eq!(n, 0, "allocations in 1000 successful async calls");
}

#[test]
fn async_failure_allocates_nothing() {
    let _ = poll_to_end(async_op(true));
    let n = allocations(|| {
        for _ in 0..1000 {
            assert!(poll_to_end(async_op(true)).is_err());
        }
    });
    assert_eq!(n, 0, "allocations in 1000 failed async calls");
}
