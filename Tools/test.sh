#!/usr/bin/env bash
# Sets up the machine and runs every test: the Swift test suites (unit, scenario, property,
# codec) in a debug build, the outside package in Examples/, then the long-run property tests
# (hundreds of messages per participant under harsh faults), which need the release build to
# finish in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"

swift build --build-tests
# The suites that start `psync node` processes run on their own: their nodes keep real time
# (a --timeout that starts when the process does), and a test that starts them is an async task
# that CPU-bound simulation suites running beside it can keep off the two-thread cooperative
# pool for a minute, so that one node times out before the test gets to start its peer.
real_network='MultiProcessTests|NamespaceTests'
swift test --skip-build --skip "$real_network"
swift test --skip-build --filter "$real_network"

# Examples/: a policy written outside the package, on its public API only, built and tested
# against this tree (a path dependency), as a researcher's own package would be.
(cd Examples && swift build --build-tests && swift test --skip-build)

# @testable imports need -enable-testing in a release build.
swift build -c release --build-tests -Xswiftc -enable-testing
PSYNC_LONG_RUN=1 swift test -c release --skip-build -Xswiftc -enable-testing --filter LongRun

# Swarm testing: 1,000 seeds, each drawing its own participants, workload, faults and filter
# stack (`psync simulate --swarm`); a failure prints its seed and a shrunk command.
.build/release/psync simulate --swarm --seed 1 --runs 1000

# The notebooks (Notebooks/*.ipynb), executed headless against Traces/: any error or warning, or
# a stored output that differs from a fresh execution, fails. The corpus they read must be what
# this build writes (simulations are deterministic; the real run and the SVG are left out).
bash Tools/notebooks.sh
PSYNC=.build/release/psync bash Tools/traces.sh --no-real-run
git diff --exit-code --stat -- 'Traces/*.lz4' 'Traces/*.json' 'Traces/*.csv' 'Traces/*.txt' 'Traces/*.dot' \
    || { echo "test: Traces/ is stale: PSYNC=.build/release/psync bash Tools/traces.sh, then bash Tools/notebooks.sh --update" >&2; exit 1; }
# HdrHistogram's histogram logs (trace stats --format hlog), read back by the Python hdrh package.
python3 Tools/hlog-check.py .build/release/psync Traces/policies-waves.jsonl.lz4 Traces/lossy.jsonl.lz4 \
    Traces/real-run-h0.jsonl.lz4+Traces/real-run-h1.jsonl.lz4+Traces/real-run-h2.jsonl.lz4

# AddressSanitizer over the suites that cross into C (lz4, zlib, BoringSSL, NIO) or parse bytes:
# the engine and its codec, traces, analyses, the log, authentication, the UDP shell (about 3
# minutes with its build; the simulation-heavy suites would add minutes for Swift-only code).
bash Tools/sanitize.sh address 'PsyncTests|PsyncTraceTests|PsyncAnalysisTests|PsyncLogTests|PsyncAuthTests|PsyncNIOTests'

# libFuzzer (with AddressSanitizer) on the wire decoder and on the trace reader with every
# analysis, for a bounded time each (FUZZ_SECONDS, default 60; 0 skips). Seeds: Tools/fuzz/corpus.
fuzz_seconds="${FUZZ_SECONDS:-60}"
if [ "$fuzz_seconds" -gt 0 ]; then bash Tools/fuzz.sh "$fuzz_seconds" wire trace; fi
