#!/usr/bin/env bash
# Fuzz the Psync wire codec with libFuzzer for a bounded time.
#
#   Tools/fuzz.sh [seconds] [extra libFuzzer flags...]     (default: 60 seconds)
#
# Compiles Sources/Psync/*.swift together with Tools/fuzz/FuzzWireCodec.swift into one module
# (with -sanitize=fuzzer,address, libFuzzer supplies main), then runs it with -max_total_time.
# The corpus grows in .build-fuzz/corpus-wire across runs; crashes land in .build-fuzz/.
set -euo pipefail

cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true

out=.build-fuzz
mkdir -p "$out/corpus-wire"

swiftc -sanitize=fuzzer,address -parse-as-library -module-name PsyncFuzz \
    Sources/Psync/*.swift Tools/fuzz/FuzzWireCodec.swift \
    -o "$out/fuzz-wire"

# Swift's own crash backtracer trips AddressSanitizer when fatalError fires; let libFuzzer report
# the crash (and write the crashing input) instead.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

# A few valid packets as seeds (one of each kind), so the fuzzer starts past the header.
corpus="$out/corpus-wire"
printf '\x50\x53\x01\x01\x01\x01\x02\x01\x00\x02\x03\x02\x68\x69' > "$corpus/seed-sc"
printf '\x50\x53\x01\x02\x00\xac\x02\x01\x02\x80\x01\x00\x01\x00\x01\x00' > "$corpus/seed-an"
printf '\x50\x53\x01\x03\x02\x00\x02\x05\x01\x00\x01' > "$corpus/seed-rr"
printf '\x50\x53\x01\x03\x00\x07\x00' > "$corpus/seed-rr0"
printf '\x50\x53\x01\x05\x00\x09\x02\x00\x01\x01\x03\x01\x02\x02\x01\x02\x03' > "$corpus/seed-fr"
printf '\x50\x53\x01\x04\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\xff\xff\xff\xff\x0f\x00\x00' > "$corpus/seed-rs"

"$out/fuzz-wire" \
    -max_total_time="$seconds" \
    -max_len=4096 \
    -artifact_prefix="$out/" \
    -print_final_stats=1 \
    "$@" \
    "$corpus"
