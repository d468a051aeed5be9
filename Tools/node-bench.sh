#!/usr/bin/env bash
# Real runs on loopback: N `psync node` processes (N = 2, 4, 8) run the scripted workload under
# `causal` and `waves`, each writing its trace; prints messages per second delivered (the sum
# over processes of data messages delivered from others, divided by the slowest process's
# time) and the median and p99 send-to-deliver latency from the merged traces.
# Usage: Tools/node-bench.sh [TOTAL_MESSAGES]  (default 4000 data messages per run)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --product psync >/dev/null
psync=.build/release/psync
total=${1:-4000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
base=$((20000 + RANDOM % 20000))

printf "%-8s %-6s %10s %14s %10s %10s\n" filter nodes messages "delivered/s" "p50 ms" "p99 ms"
for filter in causal waves; do
  for n in 2 4 8; do
    per=$((total / n))
    peers=$(for ((i = 0; i < n; i++)); do printf "%d=127.0.0.1:%d," $i $((base + i)); done)
    base=$((base + n))
    rm -f "$dir"/*
    for ((i = n - 1; i >= 0; i--)); do
      $psync node --me $i --peers "${peers%,}" --workload --messages $per --interval 1ms --filter $filter \
          --seed $((i + 1)) --linger 300ms --trace "$dir/h$i.jsonl.lz4" >"$dir/out$i" 2>"$dir/err$i" &
      sleep 0.05
    done
    wait
    rate=$(cat "$dir"/out* | awk '{for (i = 1; i <= NF; i++) { if ($i == "data" && $(i+1) == "messages") d += $(i-1); if ($i == "s") { t = $(i-1); if (t > m) m = t } }} END { printf "%.0f", d / m }')
    read -r p50 p99 < <($psync trace stats "$dir"/h*.jsonl.lz4 2>/dev/null | awk -v k="deliver:$filter" '$1 == k { print $3, $5 }')
    printf "%-8s %-6s %10s %14s %10s %10s\n" $filter $n $((per * n)) "$rate" "$p50" "$p99"
  done
done
echo "(loopback, unpinned, on this machine: $(nproc) cores; latency: send to delivery by the filter, merged traces)"
