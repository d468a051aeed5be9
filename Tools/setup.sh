#!/usr/bin/env bash
# Installs what the toolkit needs on a fresh Debian machine, and nothing twice (idempotent).
# Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail

export PATH="$PATH:/opt/swift/usr/bin"
command -v swift >/dev/null || { echo "setup: swift is not installed (expected /opt/swift/usr/bin)" >&2; exit 1; }

# Debian packages: lz4 library and command (traces), zlib (.hlog histograms), Graphviz (rendering DOT pictures), GNU
# time (peak memory in psync bench tools).
apt_packages=(liblz4-dev lz4 zlib1g-dev graphviz time)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python packages for the trace interoperability checks and the notebooks.
python3 -c 'import lz4.frame' 2>/dev/null || python3 -m pip install --quiet lz4
