"""Execute one notebook headless and export it: the executed .ipynb and a self-contained HTML page.

    .venv/bin/python lab-scripts/report/execute.py NOTEBOOK --ipynb OUT.ipynb --html OUT.html

Run by the lab's report (services/harness/show/report.ts), which starts it with the project's .venv.
It prints each step as it starts and what the cell prints while it runs, so a long experiment
shows progress. When a cell fails, both files are still written (the error shows in them) and
the exit status is 1.
"""

import argparse
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def say(line=""):
    print(line, flush=True)


def step_labels(nb):
    """For each code cell, what it does: the first line of the prose just before it."""
    labels, last_prose = {}, ""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            first = next((l for l in cell.source.splitlines() if l.strip()), "")
            last_prose = re.sub(r"^#+\s*|[*_`]", "", first).strip()
        else:
            code = next((l for l in cell.source.splitlines() if l.strip()), "")
            labels[index] = last_prose or code.strip()
            last_prose = ""
    return labels


class ProgressClient(NotebookClient):
    """A notebook client that echoes each step and its printed output to the terminal."""

    def __init__(self, nb, **kw):
        super().__init__(nb, **kw)
        self.labels = step_labels(nb)
        self.code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        self.on_cell_execute = self.announce
        self.started = time.monotonic()

    def announce(self, cell, cell_index):
        number = self.code_cells.index(cell_index) + 1
        label = self.labels.get(cell_index, "")[:90]
        say(f"  [{number}/{len(self.code_cells)} {time.monotonic() - self.started:6.1f} s] {label}")

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            for line in ANSI.sub("", msg["content"]["text"]).rstrip("\n").split("\n"):
                say(f"      {line}")
        return super().output(outs, msg, display_id, cell_index)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--ipynb", required=True)
    ap.add_argument("--html", required=True)
    ap.add_argument("--timeout", type=int, default=3600, help="seconds one cell may take")
    args = ap.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    client = ProgressClient(
        nb,
        timeout=args.timeout,
        kernel_name="tslab",
        startup_timeout=120,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )
    failed = None
    try:
        client.execute()
    except CellExecutionError as err:
        failed = err
    except Exception as err:  # the kernel died or a cell timed out: still write what ran
        failed = err

    os.makedirs(os.path.dirname(os.path.abspath(args.ipynb)), exist_ok=True)
    nbformat.write(nb, args.ipynb)
    name = os.path.splitext(os.path.basename(args.notebook))[0]
    exporter = HTMLExporter(template_name="lab-report", extra_template_basedirs=[TEMPLATES])
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    with open(args.html, "w", encoding="utf-8") as f:
        f.write(html)

    if failed is not None:
        say(f"  ✖ a cell failed: {ANSI.sub('', str(failed)).strip()[-2000:]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
