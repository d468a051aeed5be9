#!/usr/bin/env bash
# Sets up the machine and runs every test: the Swift test suites (unit, scenario, property,
# codec) in a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"

swift build --build-tests
swift test --skip-build
