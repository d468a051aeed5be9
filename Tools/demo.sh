#!/usr/bin/env bash
# Sets up the machine, builds the toolkit and runs the demo: a simulated conversation among
# four participants over a lossy, reordering network with a partition that heals, with its
# summary and the checkers' verdict; it writes the run's trace to Traces/demo.jsonl.lz4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"

swift build -c release --product psync
.build/release/psync simulate --seed 7 --participants 4 --messages 12 --reply 0.3 \
    --delay uniform:1ms-4ms --loss 0.05 --duplicate 0.02 --reorder 0.1 \
    --partition 3@40ms-120ms --trace Traces/demo.jsonl.lz4
echo
echo "first records of the trace (lz4 -dc Traces/demo.jsonl.lz4):"
lz4 -dc Traces/demo.jsonl.lz4 | sed -n '2,6p'

