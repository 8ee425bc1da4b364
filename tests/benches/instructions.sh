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
