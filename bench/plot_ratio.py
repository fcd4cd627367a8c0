#!/usr/bin/python3
"""Plots a sluice_bench_mcf CSV as time ratios: for each instance, each of our solvers'
median total time divided by LEMON NetworkSimplex's median on the same instance, on a log
axis (below 1: ours is faster), with the issue's 0.5 target marked.

usage: plot_ratio.py BENCH.csv OUT.png
"""
import csv
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REFERENCE = "lemon-ns"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    times = defaultdict(list)
    instances, solvers = [], []
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] != "optimal":
                continue
            times[(row["instance"], row["solver"])].append(float(row["total_s"]))
            if row["instance"] not in instances:
                instances.append(row["instance"])
            if row["solver"] not in solvers and row["solver"] != REFERENCE:
                solvers.append(row["solver"])
    rows = [i for i in instances if (i, REFERENCE) in times]
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(rows) * max(2, len(solvers)) / 2 + 1.6))
    height = 0.8 / max(1, len(solvers))
    for k, solver in enumerate(solvers):
        ys, ratios = [], []
        for i, inst in enumerate(rows):
            if (inst, solver) not in times:
                continue
            ys.append(i + k * height)
            ratios.append(statistics.median(times[(inst, solver)]) / statistics.median(times[(inst, REFERENCE)]))
        bars = ax.barh(ys, ratios, height=height, label=solver)
        ax.bar_label(bars, labels=[f"{r:.2f}" for r in ratios], fontsize=7, padding=2)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(rows))])
    ax.set_yticklabels([r.replace(".min", "") for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ticks = [0.25, 0.5, 1, 2, 4, 8]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.axvline(0.5, color="black", linestyle="--", linewidth=0.8, label="target 0.5")
    ax.set_xlabel(f"median time / {REFERENCE} median time (log; below 1: ours is faster)")
    ax.set_title("Our CPU solvers against LEMON NetworkSimplex, same run, same instances")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
