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

# The same kind of conversation between real processes: three `psync node` processes on
# loopback, 5% of outgoing datagrams dropped by each, waves; one trace per process, merged by
# the trace tools, checked and drawn (Traces/demo-udp.dot, .svg; not committed: real runs vary).
echo
echo "== a real run: 3 psync node processes on loopback =="
udp=$(mktemp -d)
peers="0=127.0.0.1:9710,1=127.0.0.1:9711,2=127.0.0.1:9712"
for i in 2 1 0; do
    $psync node --me $i --peers $peers --workload --messages 6 --interval 5ms --drop 0.05 --filter waves \
        --seed $((i + 1)) --linger 300ms --trace "$udp/h$i.jsonl.lz4" 2>/dev/null &
    sleep 0.1
done
wait
$psync trace check "$udp"/h*.jsonl.lz4
$psync trace dot "$udp"/h*.jsonl.lz4 --title "3 psync node processes (waves, 5% drop)" -o Traces/demo-udp.dot
dot -Tsvg Traces/demo-udp.dot -o Traces/demo-udp.svg
rm -rf "$udp"
echo "context graph of the real run: Traces/demo-udp.dot (rendered: Traces/demo-udp.svg)"
