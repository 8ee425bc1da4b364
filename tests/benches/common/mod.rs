//! What the bench binaries share: the compared functions ([`ops`]) and the
//! groups that run them side by side.

#![allow(dead_code)]

pub mod ops;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};

use ops::Op;

/// Which calls fail.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// No call fails.
    Success,
    /// Every call fails.
    Failure,
    /// One call in ten fails, as in the figures.
    Mixed,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Success, Mode::Failure, Mode::Mixed];

    fn name(self) -> &'static str {
        match self {
            Mode::Success => "success",
            Mode::Failure => "failure",
            Mode::Mixed => "mixed10",
        }
    }

    /// Whether call number `n` fails.
    #[inline]
    pub fn fails(self, n: u64) -> bool {
        match self {
            Mode::Success => false,
            Mode::Failure => true,
            Mode::Mixed => n.is_multiple_of(10),
        }
    }
}

/// Short runs: the whole `cargo bench` must fit in a few minutes on 2 cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
        .configure_from_args()
}

/// One group `{flavour}/{mode}` running every variant named in `only` (all
/// of `variants` when empty), one after the other in this process.
pub fn compare(
    c: &mut Criterion,
    flavour: &str,
    mode: Mode,
    variants: &[(&str, Op)],
    only: &[&str],
) {
    let mut group = c.benchmark_group(format!("{flavour}/{}", mode.name()));
    for &(name, op) in variants {
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        group.bench_function(name, |b| {
            let mut n = 0u64;
            b.iter(|| {
                n = n.wrapping_add(1);
                op(black_box(mode.fails(n)))
            });
        });
    }
    group.finish();
}

/// Throughput of `variants` at each thread count (one call in ten failing):
/// every thread makes the same number of calls; the time is the wall time
/// of all of them, so elements/s is total calls per second.
pub fn threads(c: &mut Criterion, flavour: &str, variants: &[(&str, Op)], counts: &[usize]) {
    let mut group = c.benchmark_group(format!("{flavour}/threads"));
    for &(name, op) in variants {
        for &threads in counts {
            group.throughput(Throughput::Elements(threads as u64));
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| on_threads(op, threads, iters));
            });
        }
    }
    group.finish();
}

/// The wall time of `threads` threads each making `calls` calls of `op`, one
/// in ten failing.
fn on_threads(op: Op, threads: usize, calls: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || {
                for n in 0..calls {
                    black_box(op(black_box(Mode::Mixed.fails(n)))).ok();
                }
            });
        }
    });
    start.elapsed()
}

/// Outside criterion, for profiling and for a quick look on a noisy machine:
///
/// * `IE_BENCH_PROFILE=sync/variant:mode:calls` makes `calls` calls of one variant
///   (for `perf record` or `valgrind --tool=callgrind`) and exits;
/// * `IE_BENCH_INTERLEAVE=rounds` times every variant in turn, `rounds`
///   times over, and prints each one's median ns per call: load from other
///   processes then falls on all variants alike.
///
/// Returns `true` when one of them ran (the caller then skips criterion).
pub fn side_modes(flavour: &str) -> bool {
    let variants: Vec<(String, Op)> = (ops::SYNC.iter().map(|&(n, op)| (format!("sync/{n}"), op)))
        .chain(ops::ASYNC.iter().map(|&(n, op)| (format!("async/{n}"), op)))
        .collect();
    if let Ok(spec) = std::env::var("IE_BENCH_PROFILE") {
        let mut parts = spec.split(':');
        let (name, mode, calls) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or("success"),
            parts
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000_000u64),
        );
        let mode = Mode::ALL
            .into_iter()
            .find(|m| m.name() == mode)
            .expect("mode");
        let op = variants.iter().find(|(n, _)| n == name).expect("variant").1;
        for n in 0..calls {
            black_box(op(black_box(mode.fails(n)))).ok();
        }
        return true;
    }
    if let Some(rounds) = std::env::var("IE_BENCH_THREADS")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    {
        interleaved_threads(flavour, &variants, rounds);
        return true;
    }
    let Some(rounds) = std::env::var("IE_BENCH_INTERLEAVE")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
    else {
        return false;
    };
    const CALLS: u64 = 20_000;
    for mode in Mode::ALL {
        let mut samples = vec![Vec::with_capacity(rounds); variants.len()];
        for _ in 0..rounds {
            for (i, (_, op)) in variants.iter().enumerate() {
                let start = Instant::now();
                for n in 0..CALLS {
                    black_box(op(black_box(mode.fails(n)))).ok();
                }
                samples[i].push(start.elapsed().as_nanos() as f64 / CALLS as f64);
            }
        }
        for (i, (name, _)) in variants.iter().enumerate() {
            let s = &mut samples[i];
            s.sort_by(f64::total_cmp);
            println!(
                "{flavour}/{}/{name}: median {:.1} ns",
                mode.name(),
                s[s.len() / 2]
            );
        }
    }
    true
}

/// `IE_BENCH_THREADS=rounds`: thread scaling of the synchronous variants, one
/// call in ten failing, interleaved like `IE_BENCH_INTERLEAVE` so that load
/// from other processes falls on every variant and thread count alike. Thread
/// counts 1, 2, 4, 8, 16 up to the machine's parallelism; each thread makes
/// the number of calls one thread makes in about 20 ms. Prints the median
/// total throughput per variant and thread count and its ratio to 1 thread.
fn interleaved_threads(flavour: &str, variants: &[(String, Op)], rounds: usize) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let counts: Vec<usize> = [1, 2, 4, 8, 16]
        .into_iter()
        .filter(|&t| t <= cores.max(2))
        .collect();
    let variants: Vec<&(String, Op)> = variants
        .iter()
        .filter(|(n, _)| n.starts_with("sync/") && !n.ends_with("tracing_instrument"))
        .collect();
    let run = |op: Op, threads: usize, calls: u64| -> f64 {
        (threads as u64 * calls) as f64 / on_threads(op, threads, calls).as_secs_f64()
    };
    // Calls per thread: about 20 ms of one thread's work.
    let calls: Vec<u64> = variants
        .iter()
        .map(|(_, op)| {
            let per_second = run(*op, 1, 10_000);
            ((per_second * 0.02) as u64).max(10_000)
        })
        .collect();
    let mut samples = vec![vec![Vec::with_capacity(rounds); counts.len()]; variants.len()];
    for _ in 0..rounds {
        for (v, (_, op)) in variants.iter().enumerate() {
            for (c, &threads) in counts.iter().enumerate() {
                samples[v][c].push(run(*op, threads, calls[v]));
            }
        }
    }
    println!("{flavour}: {cores} cores, {rounds} rounds, calls per second (median), × 1 thread");
    for (v, (name, _)) in variants.iter().enumerate() {
        let medians: Vec<f64> = samples[v]
            .iter_mut()
            .map(|s| {
                s.sort_by(f64::total_cmp);
                s[s.len() / 2]
            })
            .collect();
        let row: Vec<String> = counts
            .iter()
            .zip(&medians)
            .map(|(t, m)| format!("{t}: {:.3} M/s ({:.2}×)", m / 1e6, m / medians[0]))
            .collect();
        println!("{flavour}/threads/{name}: {}", row.join(", "));
    }
}
