#!/usr/bin/env bash
# Sets up the machine and runs every test: the Swift test suites (unit, scenario, property,
# codec) in a debug build, then the long-run property tests (hundreds of messages per
# participant under harsh faults), which need the release build to finish in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"

swift build --build-tests
swift test --skip-build

# @testable imports need -enable-testing in a release build.
swift build -c release --build-tests -Xswiftc -enable-testing
PSYNC_LONG_RUN=1 swift test -c release --skip-build -Xswiftc -enable-testing --filter LongRun
