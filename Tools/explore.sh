#!/usr/bin/env bash
# The README's model-checking figures: every scope of its table explored completely (about a
# minute in all), then, with --frontier, the scopes that do not fit, each stopped at 100,000
# states (about four minutes), to show how their frontier grows.
# Usage: bash Tools/explore.sh [--frontier]   (PSYNC=path/to/psync to skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PSYNC:-}" ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
  swift build -c release --product psync >&2
  PSYNC=.build/release/psync
fi
run() { echo "== psync explore $*"; "$PSYNC" explore "$@" | tail -2; }
for filter in waves depth-first quorum stable-causal commutative causal circuit:1; do
  run --participants 2 --messages 2 --filter "$filter" --no-acks --losses 1
done
run --participants 2 --messages 2 --filter waves --no-acks --duplicates 1
run --participants 2 --messages 2 --filter circuit:1 --ring --losses 1
run --participants 3 --messages 1 --filter causal --no-acks --fifo
if [[ "${1:-}" == "--frontier" ]]; then
  # Exit status 3: the search stopped at its limit, as intended here.
  run --participants 3 --messages 2 --filter waves --no-acks --losses 1 --max-states 100000 || [[ $? == 3 ]]
  run --participants 3 --messages 1 --filter waves --no-acks --fifo --max-states 100000 || [[ $? == 3 ]]
  run --participants 3 --messages 1 --filter waves,membership --no-acks --crashes 1 --max-states 100000 || [[ $? == 3 ]]
fi
