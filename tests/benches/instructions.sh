#!/usr/bin/env bash
# Instructions per call, counted by valgrind (callgrind): deterministic, so
# unlike the timings they do not move with the load of a shared machine.
# Not run in CI. Build the benches first (`cargo bench -p
# instrument-errors-tests --no-run`), then:
#
#   tests/benches/instructions.sh [CALLS]
#
# Each variant runs CALLS and 2*CALLS times (IE_BENCH_PROFILE, see
# benches/common/mod.rs); the difference over CALLS is the cost of one call,
# without the set-up.
#
#   tests/benches/instructions.sh [CALLS] recipe
#
# counts the failure-inclusive side-by-side bench of issue 19 (benches/recipe.rs)
# instead: the seed-faithful hand-written recipe (with its WARN record),
# `#[instrument_errors]` and `#[tracing::instrument(err)]`, one call in ten
# failing, and every call failing or none.
set -euo pipefail
CALLS=${1:-20000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEPS="${CARGO_TARGET_DIR:-$ROOT/target}/release/deps"

bin() { ls -t "$DEPS/$1"-* | grep -v '\.d$' | head -1; }

count() { # binary spec calls
    IE_BENCH_PROFILE="$2:$3" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" 2>&1 |
        awk '/Collected/ { print $4 }'
}

per_call() { # binary variant mode
    local a b
    a=$(count "$1" "$2:$3" "$CALLS")
    b=$(count "$1" "$2:$3" $((2 * CALLS)))
    echo $(((b - a) / CALLS))
}

if [ "${2:-}" = recipe ]; then
    b=$(bin recipe)
    variants=(hand_written_record instrument_errors tracing_instrument sdk_floor)
    printf '%-8s %-6s' mode form
    for v in "${variants[@]}"; do printf ' %20.20s' "$v"; done
    echo
    for mode in mixed10 success failure; do
        for form in sync async; do
            printf '%-8s %-6s' "$mode" "$form"
            for v in "${variants[@]}"; do
                printf ' %20s' "$(per_call "$b" "$form/$v" "$mode")"
            done
            echo
        done
    done
    exit 0
fi

printf '%-14s %-8s %-6s' setup mode form
variants=(bare hand_written metric_alone instrument_errors instrument_errors_no_log tracing_instrument)
for v in "${variants[@]}"; do printf ' %12.12s' "$v"; done
echo
for setup in sdk_drop sampled_out sampled_ratio no_provider; do
    b=$(bin "$setup")
    for mode in success failure; do
        for form in sync async; do
            printf '%-14s %-8s %-6s' "$setup" "$mode" "$form"
            for v in "${variants[@]}"; do
                printf ' %12s' "$(per_call "$b" "$form/$v" "$mode")"
            done
            echo
        done
    done
done
