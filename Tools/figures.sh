#!/usr/bin/env bash
# The paper's Figures 1 and 2 drawn from the traces in Traces/ (the engine's record of each
# figure's conversation; DotTests checks that they are the paper's graphs and that their DOT is
# Traces/figureN.dot), as SVG and PDF for a paper: `psync trace dot --layout paper`, rendered by
# Graphviz. Usage: Tools/figures.sh   (needs the release build: swift build -c release --product psync)
set -euo pipefail
cd "$(dirname "$0")/.."
psync="${PSYNC:-.build/release/psync}"
for n in 1 2; do
    "$psync" trace dot --layout paper Traces/figure$n.jsonl.lz4 -o Traces/figure$n.dot
    dot -Tsvg Traces/figure$n.dot -o Traces/figure$n.svg
    dot -Tpdf Traces/figure$n.dot -o Traces/figure$n.pdf
    echo "Traces/figure$n.{dot,svg,pdf}"
done
