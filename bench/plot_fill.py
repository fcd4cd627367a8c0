#!/usr/bin/python3
"""Plots the FGD paper's fill experiment (sluice replay --fill --protocol atc23).

  bench/plot_fill.py OUT/fill.csv OUT/fill.png [--summary OUT/fill_summary.csv] [--title TEXT]

Left: unallocated GPU (% of capacity) against the GPU demand arrived (% of capacity), the
mean over seeds per policy and batch, as the paper's figure 7 draws it. Right: the figure at
100% arrived per policy, mean over seeds with the range of seeds as error bars (needs the
summary CSV).
"""
import argparse
import collections
import csv
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def label(policy, batch):
    if policy in ("fgd-greedy", "best-fit", "gpu-packing"):
        return policy
    return f"{policy} @ batch {'all' if batch == '0' else batch}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("curves")
    ap.add_argument("png")
    ap.add_argument("--summary")
    ap.add_argument("--title", default="FGD fill experiment (ATC'23 protocol)")
    args = ap.parse_args()

    curves = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(args.curves) as f:
        for r in csv.DictReader(f):
            curves[label(r["policy"], r["batch"])][int(r["arrived_gpu_pct"])].append(float(r["unallocated_gpu_pct"]))
    summary = collections.defaultdict(list)
    if args.summary:
        with open(args.summary) as f:
            for r in csv.DictReader(f):
                if r["batch"] == "0":
                    continue  # all at once: the events at 100% are not a fill
                summary[label(r["policy"], r["batch"])].append(float(r["unallocated_gpu_pct"]))

    fig, axes = plt.subplots(1, 2 if summary else 1, figsize=(13 if summary else 7.5, 5.2))
    ax = axes[0] if summary else axes
    greedy = {"fgd-greedy": "#d69e2e", "best-fit": "#718096", "gpu-packing": "#a0aec0"}
    top = 0.0
    for name in sorted(curves):
        if name.endswith("batch all"):
            continue
        points = sorted((pct, statistics.mean(v)) for pct, v in curves[name].items() if 85 <= pct <= 130)
        style = {"color": greedy[name], "linestyle": "--"} if name in greedy else {}
        if name.endswith("batch 1"):  # fed one pod at a time, fgd is fgd-greedy: dotted over it
            style = {"linestyle": ":", "linewidth": 2.4}
        ax.plot([p for p, _ in points], [u for _, u in points], label=name, **{**{"linewidth": 1.6}, **style})
        top = max(top, max((u for p, u in points if p >= 95), default=0))
    ax.axvline(100, color="#cbd5e0", linewidth=1)
    ax.set_xlabel("GPU demand arrived (% of the cluster's GPUs)")
    ax.set_ylabel("GPU unallocated (% of the cluster's GPUs), mean over seeds")
    ax.set_xlim(85, 130)
    ax.set_ylim(0, top * 1.4 + 0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("unallocated GPU as the demand arrives", fontsize=10)

    if summary:
        ax = axes[1]
        names = sorted(summary, key=lambda n: statistics.mean(summary[n]))
        means = [statistics.mean(summary[n]) for n in names]
        lo = [m - min(summary[n]) for m, n in zip(means, names)]
        hi = [max(summary[n]) - m for m, n in zip(means, names)]
        colors = [greedy.get(n, "#2b6cb0") for n in names]
        ax.barh(range(len(names)), means, xerr=[lo, hi], color=colors, capsize=3)
        for i, (m, h) in enumerate(zip(means, hi)):
            ax.text(m + h + 0.08, i, f"{m:.2f}", va="center", fontsize=8)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, max(m + h for m, h in zip(means, hi)) * 1.15)
        ax.set_xlabel("GPU unallocated at 100% arrived (%): mean of seeds, whiskers = their range")
        ax.set_title("the figure the paper reports (lower is better)", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print("plot:", args.png)


if __name__ == "__main__":
    main()
