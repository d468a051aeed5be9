#!/usr/bin/env bash
# The paper's Tables 1 and 2 (Section 6), today, on this machine: round trips of a 1-byte message
# over UDP, RPC, Psync and TCP (psync bench rtt), with plain C UDP and TCP as the floor, and a token passed around rings of 2, 4, 6 and 8
# processes, Psync against TCP (psync bench token). Release build. Writes every measurement as CSV
# (Traces/table1-rtt.csv, Traces/table2-token.csv) for Notebooks/real-network-run.ipynb.
# Usage: Tools/paper-tables.sh [--pin]   (--pin: the RTT client on CPU 0, the servers on CPU 1)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --product psync >/dev/null
psync=.build/release/psync
# The floor: plain C UDP and TCP ping-pong, measured in the same rounds.
cc -O2 -Wall -o .build/pingpong Tools/c/pingpong.c
echo "== Table 1: round trip of a 1-byte message =="
$psync bench rtt --c-floor .build/pingpong --csv Traces/table1-rtt.csv "$@"
echo
echo "== Table 2: token passing, delay per message =="
$psync bench token --csv Traces/table2-token.csv
