#!/usr/bin/env python3
"""Checks `psync trace stats --format hlog` against HdrHistogram's Python package (hdrh).

For each trace given, every metric's .hlog is read with hdrh's HistogramLogReader and must
hold the same histogram `trace stats --format json` summarizes: the same count, the recorded
maximum inside the bucket hdrh reports as its maximum, and the same p50, p90, p99 and p99.9
(taken over hdrh's decoded buckets with HdrHistogram's rank, ceil(p/100 x count), and capped at
the recorded maximum, as hdrhistogram-swift reports them; hdrh's own get_value_at_percentile
rounds the rank to nearest instead and can differ by a bucket).

Usage: Tools/hlog-check.py PSYNC TRACE...   (exit 1 on any difference; the per-process traces
of one real run as one argument, joined by '+')
"""
import json
import math
import os
import subprocess
import sys
import tempfile

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader


def percentile(h, p, maximum):
    rank = max(1, math.ceil(math.nextafter(p, 0) * h.get_total_count() / 100))
    seen = 0
    for item in h.get_recorded_iterator():
        seen += item.count_at_value_iterated_to
        if seen >= rank:
            return min(h.get_highest_equivalent_value(item.value_iterated_to), maximum)
    return 0


def check(psync, trace):
    files = trace.split("+")
    stats = json.loads(subprocess.run([psync, "trace", "stats", *files, "--format", "json"],
                                      check=True, capture_output=True, text=True).stdout)
    problems, metrics = [], 0
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([psync, "trace", "stats", *files, "--format", "hlog", "-o", out], check=True)
        for metric, groups in stats["latencies"].items():
            path = os.path.join(out, metric.replace(":", "_") + ".hlog")
            h = HistogramLogReader(path, HdrHistogram(1, 3_600_000_000_000, 3)).get_next_interval_histogram()
            want = groups["all"]
            got = {"count": h.get_total_count()}
            got.update({k: percentile(h, float(k[1:]), want["max"]) for k in ("p50", "p90", "p99", "p99.9")})
            for k, v in got.items():
                if v != want[k]:
                    problems.append(f"{trace} {metric} {k}: hlog {v}, trace stats {want[k]}")
            if not h.get_lowest_equivalent_value(h.get_max_value()) <= want["max"] <= h.get_max_value():
                problems.append(f"{trace} {metric} max {want['max']} is outside the hlog's top bucket ending {h.get_max_value()}")
            metrics += 1
    return metrics, problems


def main():
    psync, traces = sys.argv[1], sys.argv[2:]
    failed = False
    for trace in traces:
        metrics, problems = check(psync, trace)
        for p in problems:
            print("hlog-check:", p)
        failed |= bool(problems)
        print(f"hlog-check: {trace}: {metrics} metrics, {'DIFFER' if problems else 'same histograms as trace stats'}")
    sys.exit(1 if failed else 0)


main()
