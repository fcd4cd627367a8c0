#!/usr/bin/python3
"""Plots a sluice_bench_mcf CSV: median total time and peak memory per solver and instance.

usage: plot_mcf.py BENCH.csv OUT.png
"""
import csv
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    times = defaultdict(list)
    peaks = defaultdict(list)
    instances, solvers = [], []
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] != "optimal":
                continue
            key = (row["instance"], row["solver"])
            times[key].append(float(row["total_s"]))
            peaks[key].append(float(row["peak_rss_mb"]))
            if row["instance"] not in instances:
                instances.append(row["instance"])
            if row["solver"] not in solvers:
                solvers.append(row["solver"])
    if not instances:
        print("no optimal rows to plot", file=sys.stderr)
        return 1
    # Times span milliseconds to seconds across instances: a log axis keeps each readable.
    fig, axes = plt.subplots(2, 1, figsize=(max(10, 0.9 * len(instances)), 9))
    width = 0.8 / len(solvers)
    for k, solver in enumerate(solvers):
        xs = [i + k * width for i in range(len(instances))]
        t = [statistics.median(times[(inst, solver)]) if times[(inst, solver)] else 0 for inst in instances]
        m = [statistics.median(peaks[(inst, solver)]) if peaks[(inst, solver)] else 0 for inst in instances]
        axes[0].bar(xs, t, width, label=solver)
        axes[1].bar(xs, m, width, label=solver)
        if len(instances) <= 6:  # beyond that the labels overlap
            for x, v in zip(xs, t):
                axes[0].annotate(f"{v:.3g}", (x, v), ha="center", va="bottom", fontsize=7)
    axes[0].set_yscale("log")
    for ax, title, unit in ((axes[0], "solve time (median, log scale)", "seconds"),
                            (axes[1], "peak memory (median)", "MiB")):
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(instances))])
        ax.set_xticklabels(instances, rotation=35, ha="right", fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Our CPU solvers vs LEMON (same run, same instances)")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
