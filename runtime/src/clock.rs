//! The clocks of a call: the monotonic clock times it, and the span's start
//! time on the wall clock is derived from the same reading.
//!
//! A recorded call needs a duration (monotonic: [`Instant`]) and a span
//! start and end on the wall clock ([`SystemTime`]). Reading both clocks at
//! both ends costs four reads (about 23 ns each on a TSC-backed Linux VM,
//! a fifth of a recorded call). Instead each thread keeps an *anchor*: one
//! pair of readings of both clocks. A call's wall start is the anchor's wall
//! time plus the monotonic time elapsed since the anchor, and its wall end is
//! its wall start plus its measured duration: two reads a call, both of the
//! monotonic clock, and a span whose duration is exactly the duration point's.
//!
//! The anchor is taken again when it is older than [`REANCHOR`] (monotonic
//! time), so that a step of the wall clock (an NTP step, a manual change) is
//! reflected within that time. Linux slews `CLOCK_MONOTONIC` with
//! `CLOCK_REALTIME`, so between steps the two do not drift apart; where the
//! monotonic clock is not slewed (macOS, Windows), NTP's at most 500 ppm
//! slew of the wall clock moves them at most 50 µs apart over an anchor's
//! 100 ms. Time a machine spends suspended does not advance the monotonic
//! clock: a span started within [`REANCHOR`] of an anchor taken before a
//! suspend is dated as if the suspend had not happened.
//!
//! The wall clock is read between two monotonic readings and placed at their
//! midpoint; a pair more than 20 µs apart (the thread was preempted between
//! them) is read again, and is not kept as the anchor if three attempts fail.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime};

/// How long (monotonic time) an anchor is used before both clocks are read
/// again.
pub(crate) const REANCHOR: Duration = Duration::from_millis(100);

/// This thread's clock state.
struct ThreadClock {
    /// The last pair of readings of both clocks.
    anchor: Cell<Option<(Instant, SystemTime)>>,
    /// Whether the last span started on this thread was recording: a guess
    /// that the next one will be, so that its wall start is worth computing.
    last_span_recorded: Cell<bool>,
}

thread_local! {
    static CLOCK: ThreadClock = const {
        ThreadClock {
            anchor: Cell::new(None),
            last_span_recorded: Cell::new(true),
        }
    };
}

/// The wall-clock time of the monotonic instant `now` (a reading just
/// taken): the anchor's wall time plus the time since the anchor, or a fresh
/// reading of the wall clock (which becomes the anchor) when there is no
/// anchor younger than [`REANCHOR`].
#[inline]
pub(crate) fn wall_at(now: Instant) -> SystemTime {
    CLOCK
        .try_with(|clock| wall_in(clock, now))
        // The thread is being torn down: read the wall clock.
        .unwrap_or_else(|_| SystemTime::now())
}

/// The wall-clock start to give the SDK for a span started at `now` (see
/// [`wall_at`]), or `None` when the last span started on this thread was
/// not recording: a sampled-out span needs no timestamps, and the SDK times
/// a span given none. One thread-local access for both.
#[inline]
pub(crate) fn span_start(now: Instant) -> Option<SystemTime> {
    CLOCK
        .try_with(|clock| clock.last_span_recorded.get().then(|| wall_in(clock, now)))
        .unwrap_or_else(|_| Some(SystemTime::now()))
}

/// [`wall_at`] with this thread's clock.
#[inline]
fn wall_in(clock: &ThreadClock, now: Instant) -> SystemTime {
    if let Some((at, wall)) = clock.anchor.get() {
        if let Some(since) = now.checked_duration_since(at) {
            if since < REANCHOR {
                if let Some(wall) = wall.checked_add(since) {
                    return wall;
                }
            }
        }
    }
    reanchor(clock, now)
}

/// The longest gap between the two monotonic readings around a wall-clock
/// reading for the pair to be an anchor: longer, and the thread was
/// probably descheduled between them (the wall reading could then be off by
/// as long), so both are read again.
const BRACKET: Duration = Duration::from_micros(20);

/// How many times the clocks are read for an anchor before giving up.
const ATTEMPTS: u32 = 3;

/// Reads both clocks, makes them this thread's anchor, and returns the wall
/// time of `now`. The wall clock is read between two monotonic readings,
/// and the wall reading is taken to be at their midpoint. A pair whose
/// readings are more than [`BRACKET`] apart (the thread was probably
/// preempted between them) is read again; if none is close enough after
/// [`ATTEMPTS`], the closest gives this call's time but is not kept, so
/// that the next call tries again.
#[cold]
#[inline(never)]
fn reanchor(clock: &ThreadClock, now: Instant) -> SystemTime {
    let read = || {
        let before = Instant::now();
        let wall = SystemTime::now();
        let gap = Instant::now().saturating_duration_since(before);
        (gap, before.checked_add(gap / 2).unwrap_or(before), wall)
    };
    let mut best = read();
    let mut attempts = 1;
    while best.0 > BRACKET && attempts < ATTEMPTS {
        let next = read();
        if next.0 < best.0 {
            best = next;
        }
        attempts += 1;
    }
    let (gap, at, wall) = best;
    if gap <= BRACKET {
        clock.anchor.set(Some((at, wall)));
    }
    at_instant(at, wall, now)
}

/// The wall time of `now`, given that `at` was at `wall`.
fn at_instant(at: Instant, wall: SystemTime, now: Instant) -> SystemTime {
    match now.checked_duration_since(at) {
        Some(since) => wall.checked_add(since),
        None => wall.checked_sub(at.saturating_duration_since(now)),
    }
    .unwrap_or(wall)
}

/// Remembers whether the span just started was recording.
#[inline]
pub(crate) fn set_last_span_recorded(recording: bool) {
    let _ = CLOCK.try_with(|clock| clock.last_span_recorded.set(recording));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forget_anchor() {
        CLOCK.with(|clock| clock.anchor.set(None));
    }

    fn anchor() -> Option<(Instant, SystemTime)> {
        CLOCK.with(|clock| clock.anchor.get())
    }

    fn gap(a: SystemTime, b: SystemTime) -> Duration {
        a.duration_since(b)
            .or_else(|_| b.duration_since(a))
            .unwrap_or_default()
    }

    /// Within `slack` of each other.
    fn close(a: SystemTime, b: SystemTime, slack: Duration) -> bool {
        gap(a, b) <= slack
    }

    const SLACK: Duration = Duration::from_millis(20);

    #[test]
    fn the_first_call_reads_the_wall_clock_and_anchors() {
        forget_anchor();
        let now = Instant::now();
        let wall = wall_at(now);
        assert!(close(wall, SystemTime::now(), SLACK));
        // Anchored after `now` (on a loaded machine, maybe not at all:
        // three preempted readings in a row are not kept).
        if let Some((at, anchor_wall)) = anchor() {
            assert!(at >= now);
            assert_eq!(anchor_wall.duration_since(wall).ok(), Some(at - now));
        }
    }

    /// This thread's anchor, made now (retried: a preempted reading is
    /// not kept).
    fn fresh_anchor() -> (Instant, SystemTime) {
        for _ in 0..100 {
            forget_anchor();
            wall_at(Instant::now());
            if let Some(anchor) = anchor() {
                return anchor;
            }
        }
        panic!("no anchor in 100 attempts");
    }

    #[test]
    fn later_calls_add_the_monotonic_time_since_the_anchor() {
        let (at, wall) = fresh_anchor();
        let later = at + Duration::from_millis(7);
        assert_eq!(wall_at(later), wall + Duration::from_millis(7));
        // The anchor is kept.
        assert_eq!(anchor(), Some((at, wall)));
    }

    #[test]
    fn derived_times_stay_close_to_the_wall_clock() {
        forget_anchor();
        for _ in 0..1000 {
            let derived = wall_at(Instant::now());
            let read = SystemTime::now();
            assert!(close(derived, read, SLACK), "{derived:?} vs {read:?}");
        }
    }

    #[test]
    fn derived_times_follow_the_monotonic_clock_exactly() {
        let (at, _) = fresh_anchor();
        let a = at + Duration::from_micros(10);
        let b = a + Duration::from_micros(1234);
        let (wa, wb) = (wall_at(a), wall_at(b));
        assert_eq!(
            wb.duration_since(wa).ok(),
            Some(Duration::from_micros(1234))
        );
    }

    #[test]
    fn an_old_anchor_is_replaced() {
        let now = Instant::now();
        let Some(old) = now.checked_sub(REANCHOR + Duration::from_millis(10)) else {
            return; // Too close to boot for an old instant.
        };
        // A stale anchor, and an absurd one: it must not be used.
        CLOCK.with(|clock| clock.anchor.set(Some((old, SystemTime::UNIX_EPOCH))));
        let wall = wall_at(now);
        assert!(close(wall, SystemTime::now(), SLACK), "{wall:?}");
        if let Some((at, _)) = anchor() {
            assert!(at >= now, "a new anchor");
        }
    }

    #[test]
    fn an_instant_before_the_anchor_reads_the_wall_clock() {
        let early = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        let (first, _) = fresh_anchor();
        let wall = wall_at(early);
        assert!(close(
            wall,
            SystemTime::now(),
            SLACK + Duration::from_millis(2)
        ));
        if let Some((at, anchor_wall)) = anchor() {
            if at != first {
                // Anchored again: `early` is placed before it.
                assert_eq!(anchor_wall.duration_since(wall).ok(), Some(at - early));
            }
        }
    }

    #[test]
    fn a_future_instant_is_placed_after_the_anchor() {
        let (at, wall) = fresh_anchor();
        assert_eq!(
            at_instant(at, wall, at + Duration::from_secs(1)),
            wall + Duration::from_secs(1)
        );
        if let Some(before) = at.checked_sub(Duration::from_secs(1)) {
            assert_eq!(at_instant(at, wall, before), wall - Duration::from_secs(1));
        }
    }

    #[test]
    fn the_recording_guess_is_per_thread() {
        let recorded = || span_start(Instant::now()).is_some();
        assert!(recorded());
        set_last_span_recorded(false);
        assert!(!recorded());
        std::thread::spawn(move || assert!(recorded()))
            .join()
            .unwrap();
        set_last_span_recorded(true);
        assert!(recorded());
    }
}
