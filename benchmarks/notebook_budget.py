"""Time every chapter notebook on one core and record its peak memory.

    python benchmarks/notebook_budget.py            # pins to core 0 with taskset when available

Each notebook runs in a fresh Jupyter kernel (nbclient), working directory chapters/, as in
the build. The kernel is started under ``taskset -c 0`` so it uses one core, and BLAS is
limited to one thread. Peak memory is the kernel's maximum resident set size (VmHWM, a
high-water mark the kernel keeps itself, read from /proc after the last cell). Budgets
(issue "The book"): at most 20 s per notebook (the training page included), whole build at
most 90 s, peak memory under 1 GB.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(path: Path) -> tuple[float, float]:
    nb = jupytext.read(path)
    argv = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.kernel_manager_class = "jupyter_client.manager.KernelManager"
    km = client.create_kernel_manager()
    km.kernel_cmd = argv + [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    with client.setup_kernel(env=env):
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        peak = peak_rss_mb(km.provisioner.process.pid)      # the kernel's own high-water mark
    return seconds, peak


def main() -> None:
    print(f"{'page':<24}{'seconds (1 core)':>18}{'peak MB':>10}")
    for path in sorted((ROOT / "chapters").glob("*.md")):
        if "kernelspec" not in jupytext.read(path).metadata:
            continue
        seconds, mb = run(path)
        print(f"{path.stem:<24}{seconds:>18.1f}{mb:>10.0f}")


if __name__ == "__main__":
    main()
