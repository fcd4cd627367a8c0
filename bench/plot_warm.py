#!/usr/bin/python3
"""Plots a sluice_bench_warm CSV: per network, the median warm/cold time ratio against the
share of arcs and supplies changed (left), and the warm solve against LEMON's
NetworkSimplex solving the same changed network from scratch (right).

usage: plot_warm.py WARM.csv OUT.png
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
    warm_cold = defaultdict(list)
    warm_lemon = defaultdict(list)
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] != "optimal":
                continue
            key = (row["instance"], float(row["fraction"]))
            warm_cold[key].append(float(row["warm_over_cold"]))
            lemon = float(row["lemon_ns_s"])
            if lemon > 0:
                warm_lemon[key].append(float(row["warm_s"]) / lemon)
    instances = sorted({k[0] for k in warm_cold})
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, data, title in (
        (axes[0], warm_cold, "warm re-solve / cold solve (ours)"),
        (axes[1], warm_lemon, "warm re-solve / LEMON NetworkSimplex from scratch"),
    ):
        for inst in instances:
            points = sorted((frac, statistics.median(v)) for (i, frac), v in data.items() if i == inst)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=inst.replace(".min", ""))
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("share of arc capacities and node supplies changed")
        ax.set_ylabel("time ratio (median of reps; below 1: warm is faster)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    # The targets: 3% of a cold solve after 0.1% changed, 10% after 1%.
    axes[0].plot([0.001, 0.01], [0.03, 0.10], linestyle="none", marker="*", markersize=14, color="black",
                 label="target")
    axes[0].legend(fontsize=8)
    fig.suptitle("Warm re-solves (WarmSolver) on allocation networks")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
