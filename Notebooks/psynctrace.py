"""Read Psync toolkit traces (``psync-trace/1``, see ``../Traces/FORMAT.md``) into Python.

A trace is a stream of LZ4 frames whose content is JSON Lines, the first record a header::

    import psynctrace
    run = psynctrace.read("../Traces/policies-waves.jsonl.lz4")
    run.header["participants"], len(run.records), run.truncated
    run.latencies("deliver", filter="waves", content="data")   # a pandas DataFrame
    psynctrace.summary(run.latencies("receive", content="data")["latency_ns"])

Given several files (the per-process traces of one real run), ``read`` merges them the way
``psync trace cat A B C`` does: one time base, records in merged time order, ties to the file
given first, and a ``crash`` record for a process whose trace has no ``end``.

Percentiles follow ``psync trace stats``: an HdrHistogram (1 ns to an hour, 3 significant
digits) and hdrhistogram-swift's ``valueAtPercentile``. That is NOT what the Python ``hdrh``
package's own ``get_value_at_percentile`` returns (it rounds the rank to the nearest integer
instead of up, and does not clip to the largest value recorded), so ``percentile`` below uses
``hdrh`` for the buckets only.
"""

from __future__ import annotations

import heapq
import json
import math
import os
from dataclasses import dataclass, field

import lz4.frame
import pandas as pd
from hdrh.histogram import HdrHistogram

__all__ = ["Trace", "read", "read_file", "merge", "new_histogram", "percentile", "summary", "latency_summaries",
           "PERCENTILES"]

#: The percentiles ``psync trace stats`` reports, by name.
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def read_file(path):
    """The records of one trace file, and whether it was cut inside its last frame.

    Reads every LZ4 frame (``lz4.frame.decompress`` would read only the first). Records of a
    frame that ends early (its writer died mid-frame) are left out, as the toolkit's reader
    does; damage that lz4's checksums catch raises ``RuntimeError``.

    Returns ``(records, truncated)``: a list of dicts (header first) and a bool.
    """
    with open(path, "rb") as f:
        data = f.read()
    text = []
    while data:
        d = lz4.frame.LZ4FrameDecompressor()
        chunk = d.decompress(data)  # raises RuntimeError on damage (a checksum that fails)
        if not d.eof:
            return _records(text), True  # the file ends inside this frame
        text.append(chunk)
        data = d.unused_data
    return _records(text), False


def _records(chunks):
    return [json.loads(line) for chunk in chunks for line in chunk.decode("utf-8").splitlines() if line]


@dataclass
class Trace:
    """One run: its header, its records in order (the header not included) and what reading it noted.

    ``truncated`` is true when a file was cut inside its last frame (its complete records are
    here); ``complete`` is true when every file ended with an ``end`` record (a process without
    one was killed); ``paths`` are the files read.
    """

    header: dict
    records: list
    truncated: bool = False
    complete: bool = True
    paths: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def __post_init__(self):
        self._frames = {}

    def frame(self, kind=None):
        """The records (of one kind, or all) as a DataFrame, one column per field."""
        key = kind or "*"
        if key not in self._frames:
            rows = self.records if kind is None else [r for r in self.records if r.get("kind") == kind]
            self._frames[key] = pd.DataFrame(rows)
        return self._frames[key]

    def sends(self):
        """The ``send`` records, one per message (the first, if a message was recorded twice),
        with ``content`` ("data", "ack", "control"; None where the recorder did not say)."""
        df = self.frame("send")
        if "content" not in df:
            df = df.assign(content=None)
        return df.drop_duplicates(["cid", "mid"], keep="first").reset_index(drop=True)

    def latencies(self, kind="deliver", filter=None, content=None):
        """Time from each message's ``send`` to a later record about it, in nanoseconds.

        ``kind``: ``arrive`` (keyed by host, "h2"), ``receive``, ``stable`` or ``deliver`` (keyed by
        participant). For ``deliver``, only deliveries to the application (``application`` not
        false), of every filter or of ``filter``. ``content``: keep messages whose send says
        that ("data" for the application's data without its acknowledgements and control
        messages). A message without a ``send`` record, or a record before its send (clocks of
        different machines), is left out, as ``psync trace stats`` does.

        Returns a DataFrame: ``cid, mid, content, key, sent, t, latency_ns`` (plus ``filter``
        for deliveries), in trace order.
        """
        df = self.frame(kind)
        sends = self.sends()[["cid", "mid", "t", "content"]].rename(columns={"t": "sent"})
        if df.empty:
            return pd.DataFrame(columns=["cid", "mid", "content", "key", "sent", "t", "latency_ns"])
        if kind == "deliver":
            if "application" in df:
                df = df[df["application"].map(lambda a: a is not False)]
            if filter is not None:
                df = df[df["filter"] == filter]
        df = df.assign(key="h" + df["host"].astype(str) if kind == "arrive" else df["p"])
        columns = ["cid", "mid", "key", "t"] + (["filter"] if kind == "deliver" else [])
        out = df[columns].merge(sends, on=["cid", "mid"], how="inner")
        out = out[out["t"] >= out["sent"]]
        if content is not None:
            out = out[out["content"] == content]
        out = out.assign(latency_ns=out["t"] - out["sent"])
        order = ["cid", "mid", "content", "key", "sent", "t", "latency_ns"] + (["filter"] if kind == "deliver" else [])
        return out[order].reset_index(drop=True)

    def holds(self):
        """Time each message spent in a host's holding queue (``hold`` to ``release``), keyed by host."""
        held, rows = {}, []
        for r in self.records:
            if r.get("kind") == "hold":
                held[(r["host"], r["cid"], r["mid"])] = r["t"]
            elif r.get("kind") == "release":
                start = held.pop((r["host"], r["cid"], r["mid"]), None)
                if start is not None and r["t"] >= start:
                    rows.append({"cid": r["cid"], "mid": r["mid"], "key": f"h{r['host']}", "t": r["t"],
                                 "latency_ns": r["t"] - start})
        return pd.DataFrame(rows, columns=["cid", "mid", "key", "t", "latency_ns"])

    def count(self, kind, **fields):
        """How many records of ``kind`` have all the given field values."""
        return sum(1 for r in self.records if r.get("kind") == kind and all(r.get(k) == v for k, v in fields.items()))


def read(paths):
    """A trace file (a path), or the per-process traces of one real run (a list of paths), merged."""
    if isinstance(paths, (str, os.PathLike)):
        records, truncated = read_file(paths)
        if not records or records[0].get("kind") != "header":
            raise ValueError(f"{paths}: not a trace (no header record)")
        header, events = records[0], records[1:]
        ended = bool(events) and events[-1].get("kind") == "end"
        return Trace(header, events, truncated, ended, [str(paths)])
    return merge([read(p) for p in paths])


def merge(traces):
    """One stream from the per-process traces of a real run, as ``psync trace cat`` merges them.

    Times become nanoseconds since the earliest process start: on one machine (equal
    ``boot_id``) the processes share CLOCK_MONOTONIC; across machines each machine's records are
    moved to the wall clock (``wall_clock_at_start_ns - monotonic_at_start_ns`` of its first
    process), as good as the machines' clock synchronisation. Each file keeps its record order;
    the next record is the earliest of the files' next ones, ties to the file given first.
    """
    if not all("real_run" in t.header.get("run", {}) for t in traces):
        raise ValueError("only per-process traces of a real run merge (a simulation's trace already holds every host)")
    runs = [t.header["run"]["real_run"] for t in traces]
    boots = {}
    for r in runs:
        boots.setdefault(r["boot_id"], r["wall_clock_at_start_ns"] - r["monotonic_at_start_ns"])
    shift = [boots[r["boot_id"]] if len(boots) > 1 else 0 for r in runs]
    origin = min(r["monotonic_at_start_ns"] + s for r, s in zip(runs, shift))
    notes = []

    def stream(i, trace):
        last = None
        for r in trace.records:
            r = dict(r, t=r["t"] + shift[i] - origin)
            last = r
            yield r
        if last is None or last.get("kind") != "end":
            notes.append(f"host {runs[i]['host']}: no end record, taken as crashed")
            start = runs[i]["monotonic_at_start_ns"] + shift[i] - origin  # no record at all: its start
            yield {"t": last["t"] if last else start, "kind": "crash", "host": runs[i]["host"]}

    records = list(heapq.merge(*(stream(i, t) for i, t in enumerate(traces)), key=lambda r: r["t"]))
    participants = []
    for t in traces:
        participants += [p for p in t.header.get("participants", []) if p not in participants]
    first = traces[0].header
    header = {"kind": "header", "schema": first["schema"], "toolkit": first.get("toolkit"), "clock": "monotonic",
              "participants": participants, "cid": first.get("cid"), "filters": first.get("filters", []),
              "run": {"merged": [t.header["run"] for t in traces]}}
    return Trace(header, records, any(t.truncated for t in traces), all(t.complete for t in traces),
                 [p for t in traces for p in t.paths], notes)


def new_histogram():
    """The toolkit's latency histogram: 1 ns to an hour, three significant digits."""
    return HdrHistogram(1, 3_600_000_000_000, 3)


def percentile(values, p, histogram=None):
    """The ``p``-th percentile of ``values`` (ns) as ``psync trace stats`` reports it.

    hdrhistogram-swift's ``valueAtPercentile``: the value of rank ceil(p/100 * count) (p one ulp
    down first), reported as the highest value equivalent to it in the histogram (its bucket's
    top), but no higher than the largest value recorded.
    """
    values = sorted(int(v) for v in values)
    if not values:
        return 0
    h = histogram or new_histogram()
    if p <= 0:
        return values[0]
    if p >= 100:
        return values[-1]
    rank = max(1, math.ceil(math.nextafter(p, 0) * len(values) / 100))
    return max(min(h.get_highest_equivalent_value(values[rank - 1]), values[-1]), values[0])


def summary(values):
    """``count``, p50, p90, p99, p99.9, ``max`` and ``mean`` of ``values`` (ns), as the
    ``psync trace stats --format json`` summary of one distribution (max: the largest value
    recorded, not the top of its bucket; mean: of the buckets' middles)."""
    values = [int(v) for v in values]
    h = new_histogram()
    out = {"count": len(values)}
    out.update({name: percentile(values, p, h) for name, p in PERCENTILES.items()})
    out["max"] = max(values) if values else 0
    middles = {}
    for v in values:
        if v not in middles:
            low = h.get_lowest_equivalent_value(v)
            middles[v] = low + (h.get_highest_equivalent_value(v) - low + 1) // 2
    out["mean"] = sum(middles[v] for v in values) / len(values) if values else 0.0
    return out


def latency_summaries(trace):
    """The latency distributions ``psync trace stats --format json`` reports, computed here.

    ``{metric: {"all": summary, key: summary, ...}}`` for ``arrive``, ``receive``,
    ``receive:data``, ``stable``, ``deliver:FILTER``, ``deliver:FILTER:data`` and ``hold``
    (those with at least one value), each ``summary`` as ``summary()`` gives it.
    """
    def by_key(df):
        out = {"all": summary(df["latency_ns"])}
        for key in sorted(df["key"].unique()):
            out[key] = summary(df[df["key"] == key]["latency_ns"])
        return out

    tables = {"arrive": trace.latencies("arrive"), "receive": trace.latencies("receive"),
              "receive:data": trace.latencies("receive", content="data"), "stable": trace.latencies("stable")}
    deliveries = trace.latencies("deliver")
    if not deliveries.empty:
        for f in deliveries["filter"].unique():
            mine = deliveries[deliveries["filter"] == f]
            tables[f"deliver:{f}"] = mine
            tables[f"deliver:{f}:data"] = mine[mine["content"] == "data"]
    tables["hold"] = trace.holds()
    return {name: by_key(df) for name, df in tables.items() if not df.empty}
