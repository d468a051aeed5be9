#!/usr/bin/env bash
# Executes every notebook (Notebooks/*.ipynb) headless and checks it: no cell may raise, print to
# standard error or show a warning, and the outputs stored in the notebook must be the ones it
# computes now (so what a reader sees on the web is what the code and Traces/ give).
#
# Usage: Tools/notebooks.sh            check (exit 1 on an error, a warning or a stale output)
#        Tools/notebooks.sh --update   execute and store the fresh outputs in the notebooks
#
# The notebooks read only files in Traces/ (Tools/traces.sh writes them) and never call psync,
# so this runs from a fresh clone without a build. Installs Notebooks/requirements.txt with pip
# when a package is missing or at another version (PYTHON=... picks the interpreter). Every code
# cell must have an id (nbformat 4.5). Compared: each code cell's outputs (type, stream name,
# text, data, error; consecutive stream chunks joined); not execution counts, timings or metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
mode=check
case "${1:-}" in
    "") ;;
    --update) mode=update ;;
    *) echo "usage: Tools/notebooks.sh [--update]" >&2; exit 64 ;;
esac

if ! "$python" - Notebooks/requirements.txt <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, wanted = line.split("==")
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
then
    echo "notebooks: installing Notebooks/requirements.txt" >&2
    "$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r Notebooks/requirements.txt
fi

exec "$python" - "$mode" <<'EOF'
import copy, glob, json, os, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

mode = sys.argv[1]
os.environ.pop("MPLBACKEND", None)  # the notebooks draw with the inline backend

def outputs(nb):
    """Each code cell's outputs, without what changes from one execution to the next."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs = []
        for o in cell.get("outputs", []):
            o = {k: v for k, v in o.items() if k not in ("execution_count", "metadata", "transient")}
            if (o.get("output_type") == "stream" and outs and outs[-1].get("output_type") == "stream"
                    and outs[-1]["name"] == o["name"]):
                outs[-1] = dict(outs[-1], text=outs[-1]["text"] + o["text"])  # one stream, however flushed
            else:
                outs.append(o)
        cells.append((cell.get("id"), outs))
    return cells

def problems(nb):
    """Standard-error output and warnings: a passing notebook has none."""
    found = []
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = o.get("text", "") if o.get("output_type") == "stream" else ""
            line = " | ".join(l.strip() for l in text.strip().splitlines())[:240]
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                found.append(f"cell {cell.get('id')}: standard error: {line}")
            elif "Warning:" in text:
                found.append(f"cell {cell.get('id')}: warning: {line}")
    return found

def first_difference(stored, fresh):
    if len(stored) != len(fresh):
        return f"{len(stored)} code cells stored, {len(fresh)} executed"
    for (cid, a), (_, b) in zip(stored, fresh):
        if a != b:
            where = ""
            for x, y in zip(a, b):
                old = x.get("text") or x.get("data", {}).get("text/plain", "")
                new = y.get("text") or y.get("data", {}).get("text/plain", "")
                pairs = [(l, m) for l, m in zip(old.splitlines(), new.splitlines()) if l != m]
                if pairs:
                    where = f": stored {pairs[0][0].strip()[:80]!r}, now {pairs[0][1].strip()[:80]!r}"
                    break
            return f"cell {cid}: stored output differs from a fresh execution{where}"
    return None

failed = 0
paths = sorted(glob.glob("Notebooks/*.ipynb"))
if not paths:
    print("notebooks: no notebook in Notebooks/")
    sys.exit(1)
for path in paths:
    name = os.path.basename(path)
    start = time.monotonic()
    try:
        raw = json.load(open(path))  # before nbformat, which would add missing ids
        if (raw.get("nbformat"), raw.get("nbformat_minor", 0)) < (4, 5):
            raise ValueError(f"nbformat {raw.get('nbformat')}.{raw.get('nbformat_minor')}, not 4.5")
        missing = [i for i, c in enumerate(raw["cells"]) if not c.get("id")]
        if missing:
            raise ValueError(f"cells without an id: {missing}")
        stored = nbformat.read(path, as_version=4)
        nbformat.validate(stored)
    except Exception as e:
        print(f"FAIL  {name}: not a valid nbformat 4.5 notebook: {e}")
        failed += 1
        continue
    nb = copy.deepcopy(stored)
    # transport_encryption "auto": CurveZMQ keys for the kernel, which otherwise warns that its
    # local TCP sockets are not encrypted.
    config = Config()
    config.KernelManager.transport_encryption = "auto"
    client = NotebookClient(nb, config=config, kernel_name="python3", timeout=300, record_timing=False, coalesce_streams=True,
                            resources={"metadata": {"path": "Notebooks"}})
    try:
        client.execute()
    except CellExecutionError as e:
        where = next((c.get("id") for c in nb.cells if c.cell_type == "code"
                      and any(o.get("output_type") == "error" for o in c.get("outputs", []))), "?")
        print(f"FAIL  {name}: cell {where} raised {e.ename}: {e.evalue}")
        failed += 1
        continue
    except Exception as e:  # a timeout, a dead kernel
        print(f"FAIL  {name}: {type(e).__name__}: {e}")
        failed += 1
        continue
    seconds = time.monotonic() - start
    found = problems(nb)
    if found:
        print(f"FAIL  {name}: {found[0]}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
        failed += 1
        continue
    cells = sum(c.cell_type == "code" for c in nb.cells)
    if mode == "update":
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.metadata.pop("execution", None)
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)
        print(f"ok    {name}: {cells} code cells executed in {seconds:.1f} s, outputs stored")
        continue
    diff = first_difference(outputs(stored), outputs(nb))
    if diff:
        print(f"STALE {name}: {diff} (Tools/notebooks.sh --update stores fresh outputs)")
        failed += 1
    else:
        print(f"ok    {name}: {cells} code cells executed in {seconds:.1f} s, stored outputs fresh")
sys.exit(1 if failed else 0)
EOF
