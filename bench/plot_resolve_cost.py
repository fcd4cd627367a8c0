#!/usr/bin/python3
"""Turns bench/resolve_cost.sh's table (its log) into resolve_cost.csv and a PNG: per size
and cost model, the median time with the re-solve rounds against one solve, and the tasks
each way placed.

usage: plot_resolve_cost.py LOG.txt OUT_DIR
"""
import csv
import os
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
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 8 and parts[0].startswith("s") and parts[2].isdigit():
                size, model, rep, t1, p1, t0, p0, _ = parts
                rows.append((size, model, int(rep), float(t1), int(p1), float(t0), int(p0)))
    out_dir = sys.argv[2]
    with open(os.path.join(out_dir, "resolve_cost.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["size", "model", "rep", "with_resolves_s", "placed_with", "single_solve_s", "placed_single"])
        w.writerows(rows)
    sizes = sorted({r[0] for r in rows})
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 4.8), squeeze=False)
    for ax, size in zip(axes[0], sizes):
        with_t, single_t, placed = defaultdict(list), defaultdict(list), {}
        for r in rows:
            if r[0] == size:
                with_t[r[1]].append(r[3])
                single_t[r[1]].append(r[5])
                placed[r[1]] = (r[4], r[6])
        models = list(with_t)
        x = range(len(models))
        a = [statistics.median(with_t[m]) for m in models]
        b = [statistics.median(single_t[m]) for m in models]
        ax.bar([i - 0.2 for i in x], a, width=0.4, label="with re-solve rounds")
        ax.bar([i + 0.2 for i in x], b, width=0.4, label="one solve + first fit")
        for i, m in enumerate(models):
            gain = placed[m][0] / placed[m][1] - 1
            ax.annotate(f"{a[i] / b[i]:.1f}x\n{gain:+.1%} placed", (i, max(a[i], b[i])), ha="center",
                        va="bottom", fontsize=8)
        ax.set_xticks(list(x))
        ax.set_xticklabels(models)
        ax.set_ylabel("seconds (the tool's own total, decode excluded; median)")
        ax.set_title(f"{size}: time with / without the rounds, tasks placed")
        ax.set_ylim(0, max(a + b) * 1.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("What the re-solve rounds of sluice allocate cost")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "resolve_cost.png"), dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
