#!/usr/bin/env bash
# Release build, then the benchmarks whose figures the README reports: the engine (arguments go
# to it), recovery per loss rate and policy, and memory with and without Section 3.3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"

swift build -c release --product psync
.build/release/psync bench engine "$@"
.build/release/psync bench recovery
.build/release/psync bench memory
