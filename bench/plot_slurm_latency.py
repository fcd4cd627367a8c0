#!/usr/bin/python3
"""Plots bench/slurm_latency.py's rounds.csv: per variant and pin mode, the median time of
each phase of a round (read Slurm, allocate, apply the pins and read them back) as a stacked
bar, every round's total as a dot, and issue 16's target (1 s at p95) as a line.

  bench/plot_slurm_latency.py OUT/rounds.csv OUT/rounds.png
"""
import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PHASES = [("read_s", "read sinfo + squeue", "#9ecae1"), ("allocate_s", "allocate (sluice serve)", "#fdae6b"),
          ("apply_s", "apply pins + read back", "#3182bd")]
LABELS = {"pins": "pins only\n(run partition down)", "start": "jobs start\nas pinned"}


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    groups = []
    for r in rows:
        key = (r["variant"], r.get("pin_mode", "nodelist"))
        if key not in groups:
            groups.append(key)
    variants = [v for v in ("pins", "start") if any(g[0] == v for g in groups)]
    fig, axes = plt.subplots(1, len(variants), figsize=(4.2 * len(variants), 4.6), squeeze=False)
    for ax, variant in zip(axes[0], variants):
        modes = sorted({m for v, m in groups if v == variant}, key=lambda m: m != "exclude")
        for x, mode in enumerate(modes):
            rs = [r for r in rows if r["variant"] == variant and r.get("pin_mode", "nodelist") == mode]
            bottom = 0.0
            for field, label, color in PHASES:
                h = statistics.median(float(r[field]) for r in rs)
                ax.bar(x, h, bottom=bottom, color=color, width=0.6, label=label if x == 0 else None)
                bottom += h
            totals = [float(r["total_s"]) for r in rs]
            ax.scatter([x + 0.38] * len(totals), totals, s=14, color="black", zorder=3,
                       label="each round's total" if x == 0 else None)
        ax.axhline(1.0, color="red", linestyle="--", linewidth=1, label="target: 1 s at p95")
        ax.set_xticks(range(len(modes)))
        ax.set_xticklabels([f"pin by {m}" for m in modes])
        ax.set_xlim(-0.6, len(modes) - 0.2)
        ax.set_ylim(0, None)
        ax.set_title(LABELS.get(variant, variant).replace("\n", " "), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("seconds per round (bars: median of each phase)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=5)
    n = rows[0]
    fig.suptitle(f"Slurm bridge: one round with {n['candidates']} pending jobs on {n['nodes']} nodes, "
                 f"through sluice serve", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
