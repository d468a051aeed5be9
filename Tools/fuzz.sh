#!/usr/bin/env bash
# Fuzz with libFuzzer (and AddressSanitizer) for a bounded time per target.
#
#   Tools/fuzz.sh [seconds] [target...]     (default: 60 seconds; targets: wire trace)
#
# wire:  the Psync wire decoder. Sources/Psync/*.swift and Tools/fuzz/FuzzWireCodec.swift are
#        compiled into one module with swiftc (libFuzzer supplies main).
# trace: the trace reader and every analysis `psync trace` runs (Tools/fuzz/trace, a package of
#        its own on the toolkit's libraries, built with -sanitize=fuzzer,address).
#
# The seeds are kept in Tools/fuzz/corpus/TARGET; what a run discovers grows in
# .build-fuzz/corpus-TARGET across runs (libFuzzer writes new inputs to its first directory).
# A crash, a timeout (-timeout, seconds per input) or memory beyond -rss_limit_mb fails the
# script, with the input in .build-fuzz/ and the command that reproduces it.
set -euo pipefail

cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("${@:-wire trace}")
read -r -a targets <<< "${targets[*]}"

out=.build-fuzz
# Swift's own crash backtracer trips AddressSanitizer when fatalError fires; let libFuzzer report
# the crash (and write the crashing input) instead.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

build() {
    case "$1" in
    wire)
        swiftc -sanitize=fuzzer,address -use-ld=lld -parse-as-library -module-name PsyncFuzz \
            Sources/Psync/*.swift Tools/fuzz/FuzzWireCodec.swift -o "$out/fuzz-wire" ;;
    trace)
        swift build --package-path Tools/fuzz/trace --scratch-path "$out/trace" -c release \
            -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | tail -1
        cp "$out/trace/release/fuzz-trace" "$out/fuzz-trace" ;;
    *)
        echo "unknown fuzz target $1 (wire, trace)" >&2
        exit 2 ;;
    esac
}

for target in "${targets[@]}"; do
    mkdir -p "$out/corpus-$target"
    build "$target"
    case "$target" in
    wire) max_len=4096 ;;
    trace) max_len=32768 ;;
    esac
    echo "fuzzing $target for $seconds s"
    if ! "$out/fuzz-$target" \
        -max_total_time="$seconds" \
        -max_len="$max_len" \
        -timeout=20 \
        -rss_limit_mb=2048 \
        -artifact_prefix="$out/$target-" \
        -print_final_stats=1 \
        "$out/corpus-$target" "Tools/fuzz/corpus/$target" > "$out/$target.log" 2>&1; then
        tail -40 "$out/$target.log"
        echo "fuzz target $target failed; reproduce with: $out/fuzz-$target $out/$target-<crash file>" >&2
        exit 1
    fi
    grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)" "$out/$target.log" | sed "s/^/$target /"
done
