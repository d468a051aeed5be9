#!/usr/bin/env bash
# The test suite under a sanitizer, in a build directory of its own.
#
#   Tools/sanitize.sh [address|thread] [swift test filter]     (default: address, every suite)
#
# address: AddressSanitizer (out-of-bounds, use after free, leaks of C buffers: lz4 contexts,
#          trace and log files). thread: ThreadSanitizer (the trace writer's encoding thread,
#          the NIO node, the cooperative pool). The real-network suites, the release-only
#          long runs and the in-process mebibyte transfer are left out (a sanitized build is
#          several times slower, and their nodes keep real time: under the slowdown and a full
#          suite beside them they time out).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

sanitizer="${1:-address}"
filter="${2:-}"
scratch=".build-$sanitizer"
# LeakSanitizer reports what the Swift runtime, XCTest and Foundation's Process keep until exit
# (none of it the toolkit's), and its exit status would fail the benchmarks' child processes.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
args=(--skip-build --sanitize="$sanitizer" --scratch-path "$scratch" --skip 'MultiProcessTests|NamespaceTests|LongRun|mebibyteMessagesArriveWholeUnderLoss')
if [ -n "$filter" ]; then args+=(--filter "$filter"); fi
swift test "${args[@]}"
