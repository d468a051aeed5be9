#!/usr/bin/env bash
# Regenerates the corpus the notebooks (Notebooks/*.ipynb) read from Traces/, with a psync binary.
# The notebooks never call psync: they read only these files, so they run from a fresh clone.
#
# Usage: Tools/traces.sh [--no-real-run]
#   PSYNC=path/to/psync to use another binary (default .build/release/psync); PORT_BASE=N for the
#   real run's UDP ports (default 47310-47312); --no-real-run keeps the stored real run.
#
# Simulations are deterministic (fixed seeds): re-running gives byte-identical files. The real
# UDP run is not (real time, real scheduling): after a new one, `Tools/notebooks.sh --update`
# stores real-network-run.ipynb's new outputs. Takes a few seconds.
#
# Files written (all under Traces/):
#   policies-<filter>.jsonl.lz4   comparing-policies: ONE workload (seed 11, 5 participants x 20
#                                 data messages, 5% loss) under causal, waves, depth-first, quorum:4
#                                 and stable-causal (<filter> with ':' written '-': quorum-4).
#   policies-<filter>.stats.json  `psync trace stats --format json` of each: the notebook checks
#                                 that its own percentiles and ratios equal these.
#   recovery.csv                  loss-and-recovery: `psync bench recovery --csv` (defaults:
#                                 5 participants x 200 messages, seeds 1-4, losses 0-0.3, paper
#                                 and gaps, growth 10-1000 at 10% loss).
#   recovery.txt                  the bench's printed tables, which the notebook checks against.
#   graph-waves.jsonl.lz4         reading-a-context-graph: 3 participants x 3 data messages under
#                                 waves (seed 3), and its picture: graph-waves.dot (psync trace
#   graph-waves.dot/.svg          dot) rendered by Graphviz (dot -Tsvg).
#   graph-depth-first.jsonl.lz4   the same workload under depth-first (its commit records).
#   real-run-h<H>.jsonl.lz4       real-network-run: one trace per process of a real UDP run (3
#                                 `psync node` processes on 127.0.0.1, waves, 30 data messages
#                                 each, 5% of datagrams dropped).
#   real-run-merged.jsonl.lz4     `psync trace cat` of the three (the toolkit's merge), which the
#                                 notebook's own merge is checked against.
#   real-run.stats.json           `psync trace stats --format json` of the three, merged.
#   waves-8, membership-crash,    curated runs (Traces/README.md: each with its command).
#   lossy (.jsonl.lz4)
#   figure1, figure2 (.dot/.svg/  the paper's Figures 1 and 2 drawn from figureN.jsonl.lz4.
#   .pdf)
# The notebook real-network-run also reads table1-rtt.csv and table2-token.csv, which
# Tools/paper-tables.sh writes (not this script).
set -euo pipefail
cd "$(dirname "$0")/.."
psync=${PSYNC:-.build/release/psync}
real_run=yes
case "${1:-}" in
    "") ;;
    --no-real-run) real_run=no ;;
    *) echo "usage: Tools/traces.sh [--no-real-run]" >&2; exit 64 ;;
esac
[ -x "$psync" ] || { echo "traces: no psync binary at $psync (build it, or set PSYNC)" >&2; exit 1; }
command -v lz4 >/dev/null || { echo "traces: the lz4 command is missing (Tools/setup.sh installs it)" >&2; exit 1; }
command -v dot >/dev/null || { echo "traces: Graphviz's dot is missing (Tools/setup.sh installs it)" >&2; exit 1; }
out=Traces

# 1. One workload, five ordering policies.
for filter in causal waves depth-first quorum:4 stable-causal; do
    name=${filter//:/-}
    "$psync" simulate --seed 11 --participants 5 --messages 20 --loss 0.05 --filter "$filter" \
        --trace "$out/policies-$name.jsonl.lz4" >/dev/null
    "$psync" trace stats "$out/policies-$name.jsonl.lz4" --format json >"$out/policies-$name.stats.json"
done

# 2. Recovery cost against loss, and its growth with conversation length.
"$psync" bench recovery --csv "$out/recovery.csv" >"$out/recovery.txt"

# 3. A small context graph, under waves and under depth-first.
for filter in waves depth-first; do
    "$psync" simulate --seed 3 --participants 3 --messages 3 --filter "$filter" \
        --trace "$out/graph-$filter.jsonl.lz4" >/dev/null
done
"$psync" trace dot "$out/graph-waves.jsonl.lz4" --title "3 participants x 3 data messages, waves (seed 3)" \
    --output "$out/graph-waves.dot"
dot -Tsvg "$out/graph-waves.dot" >"$out/graph-waves.svg"

# 4. Curated runs (Traces/README.md lists each with its command): a wide conversation, a
#    membership removal after a crash, a harsh lossy run with the default recovery.
"$psync" simulate --seed 8 --participants 8 --messages 2 --filter waves --trace "$out/waves-8.jsonl.lz4" >/dev/null
"$psync" simulate --seed 2 --participants 5 --messages 10 --crash 4@30ms --filter waves,membership \
    --trace "$out/membership-crash.jsonl.lz4" >/dev/null
"$psync" simulate --seed 5 --participants 4 --messages 50 --loss 0.2 --trace "$out/lossy.jsonl.lz4" >/dev/null

# 5. The paper's Figures 1 and 2 as the paper draws them (top-down), from the engine's record of
#    each figure's conversation (figureN.jsonl.lz4, written by DotTests over a hand-driven
#    network: PSYNC_UPDATE_GOLDEN=1 swift test --filter DotTests), as DOT, SVG and PDF.
for n in 1 2; do
    "$psync" trace dot --layout paper "$out/figure$n.jsonl.lz4" -o "$out/figure$n.dot"
    dot -Tsvg "$out/figure$n.dot" -o "$out/figure$n.svg"
    dot -Tpdf "$out/figure$n.dot" -o "$out/figure$n.pdf"
done

# 6. A real run: three processes over UDP on this machine, each writing its own trace.
if [ "$real_run" = yes ]; then
    base=${PORT_BASE:-47310}
    peers="0=127.0.0.1:$base,1=127.0.0.1:$((base + 1)),2=127.0.0.1:$((base + 2))"
    logs=$(mktemp -d)
    trap 'rm -rf "$logs"' EXIT
    pids=()
    for h in 0 1 2; do
        "$psync" node --me "$h" --peers "$peers" --workload --messages 30 --interval 5ms --drop 0.05 \
            --seed $((h + 1)) --filter waves --linger 500ms --timeout 60s \
            --trace "$out/real-run-h$h.jsonl.lz4" >"$logs/node$h.log" 2>&1 &
        pids+=($!)
    done
    status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    [ "$status" = 0 ] || { cat "$logs"/node*.log >&2; echo "traces: a psync node of the real run failed" >&2; exit 1; }
    runs=("$out"/real-run-h{0,1,2}.jsonl.lz4)
    "$psync" trace check "${runs[@]}" >/dev/null
    "$psync" trace cat "${runs[@]}" 2>/dev/null | lz4 -q -z -f - "$out/real-run-merged.jsonl.lz4"
    "$psync" trace stats "${runs[@]}" --format json >"$out/real-run.stats.json"
fi

corpus=("$out"/policies-* "$out"/recovery.* "$out"/graph-* "$out"/real-run* "$out"/waves-8.* "$out"/membership-crash.* "$out"/lossy.* "$out"/figure*)
echo "traces: the corpus is ${#corpus[@]} files, $(du -ckb "${corpus[@]}" | tail -1 | cut -f1) bytes"
