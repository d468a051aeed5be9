#!/usr/bin/env bash
# Sets up the machine, builds the toolkit and runs the demo: a simulated conversation among
# four participants, ordered by waves (total order), over a lossy, reordering network with a
# partition that heals. It prints the run's summary and the checkers' verdict, writes the trace
# (Traces/demo.jsonl.lz4), prints its latency statistics, checks it offline, and draws the
# context graph (Traces/demo.dot, rendered to Traces/demo.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Tools/setup.sh
export PATH="$PATH:/opt/swift/usr/bin"

swift build -c release --product psync
psync=.build/release/psync

$psync simulate --seed 7 --participants 4 --messages 6 --reply 0.3 \
    --delay uniform:1ms-4ms --loss 0.05 --duplicate 0.02 --reorder 0.1 \
    --partition 3@20ms-60ms --filter waves --trace Traces/demo.jsonl.lz4
echo
$psync trace stats Traces/demo.jsonl.lz4
echo
$psync trace check Traces/demo.jsonl.lz4
$psync trace dot Traces/demo.jsonl.lz4 --title "psync simulate --seed 7 (waves)" -o Traces/demo.dot
dot -Tsvg Traces/demo.dot -o Traces/demo.svg
echo "context graph: Traces/demo.dot (rendered: Traces/demo.svg)"
