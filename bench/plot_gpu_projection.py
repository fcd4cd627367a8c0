#!/usr/bin/env python3
"""Projected GPU time per instance, split into its parts (launch latency, memory traffic,
host synchronisations, transfers), beside our CPU solver's measured time on this machine.
Log scale: the instances span three orders of magnitude.
Usage: plot_gpu_projection.py projection.csv out.png"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    rows.sort(key=lambda r: int(r["arcs"]))
    names = [f'{r["instance"].replace(".min", "")}\n{int(r["arcs"]) / 1e6:.2f}M arcs' for r in rows]
    parts = [("proj_launch_s", "launches", "#4c72b0"), ("proj_sync_s", "host syncs", "#8172b2"),
             ("proj_memory_s", "memory traffic", "#55a868"), ("proj_transfer_s", "transfers", "#ccb974")]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(rows)), 5.5))
    x = range(len(rows))
    bottom = [0.0] * len(rows)
    for key, label, color in parts:
        vals = [float(r[key]) for r in rows]
        ax.bar([i - 0.2 for i in x], vals, 0.4, bottom=bottom, label=f"projected H100: {label}", color=color)
        bottom = [b + v for b, v in zip(bottom, vals)]
    cpu = [float(r["cpu_solve_s"]) for r in rows]
    ax.bar([i + 0.2 for i in x], cpu, 0.4, label="our CPU solver, measured (2-core machine)", color="#c44e52")
    for i, r in enumerate(rows):
        ax.text(i, max(bottom[i], cpu[i]) * 1.15, f'{float(r["proj_over_cpu"]):.2f}x', ha="center", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (log)")
    ax.set_xticks(list(x))
    ax.set_xticklabels(names, fontsize=7, rotation=30, ha="right")
    ax.set_title("GPU solver: projected device time from the host executor's work model\n"
                 "(label: projected / CPU; a projection, not a device measurement)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
