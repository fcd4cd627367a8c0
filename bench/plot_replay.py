#!/usr/bin/python3
"""Plots a trace replay (sluice::write_replay_csv) or FGD fill curves (sluice::write_fill_csv).

usage: plot_replay.py ROUNDS.csv OUT.png
       plot_replay.py --fill FILL.csv OUT.png

ROUNDS.csv: one row per round (round, trace_time, pending, placed, running, rejected,
gpu/cpu/mem_alloc_pct, latency_s, ok, ...). Three panels over trace time: pods pending,
running and placed; GPU, CPU and memory allocation; round latency (failed rounds and rounds
with refused items are marked).

FILL.csv: policy, arrived_pods, arrived_gpu_demand_pct, allocated_gpu_pct,
unallocated_gpu_pct, failed_pods. Two panels: unallocated GPU share against the arrived GPU
demand, one line per policy (the FGD paper's figure 7); the final value per policy.
"""
import csv
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DAY = 86400.0


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot_rounds(rows, out):
    if not rows:
        print("no rounds to plot", file=sys.stderr)
        return 1
    t0 = float(rows[0]["trace_time"])
    days = [(float(r["trace_time"]) - t0) / DAY for r in rows]
    col = lambda name, kind=float: [kind(r[name]) for r in rows]  # noqa: E731
    ok = [r["ok"] == "1" for r in rows]
    rejected = col("rejected", int)

    fig, axes = plt.subplots(3, 1, figsize=(12, 9), sharex=True)
    ax = axes[0]
    ax.step(days, col("running", int), where="post", label="running (after the round)", lw=1.2)
    ax.step(days, col("pending", int), where="post", label="pending (sent to the allocator)", lw=1.0)
    ax.plot(days, col("placed", int), ".", ms=3, label="placed this round", alpha=0.7)
    ax.set_ylabel("pods")
    ax.set_title("Pods per round")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[1]
    ax.step(days, col("gpu_alloc_pct"), where="post", label="GPU (milli-GPUs)", lw=1.2)
    ax.step(days, col("cpu_alloc_pct"), where="post", label="CPU", lw=1.0)
    ax.step(days, col("mem_alloc_pct"), where="post", label="memory", lw=1.0)
    ax.set_ylabel("allocated (% of capacity)")
    ax.set_title("Cluster allocation after each round")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[2]
    latency_ms = [1000.0 * v for v in col("latency_s")]
    ax.plot(days, latency_ms, ".", ms=3, label="round latency", color="tab:blue")
    bad = [(d, v) for d, v, good in zip(days, latency_ms, ok) if not good]
    if bad:
        ax.plot(*zip(*bad), "x", color="tab:red", ms=6, label=f"failed rounds ({len(bad)})")
    refused = [(d, v) for d, v, n in zip(days, latency_ms, rejected) if n > 0]
    if refused:
        ax.plot(*zip(*refused), "o", mfc="none", color="tab:orange", ms=6,
                label=f"rounds with refused items ({sum(rejected)} items)")
    positive = [v for v in latency_ms if v > 0]
    if positive and max(positive) > 20 * min(positive):
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_ylabel("milliseconds")
    ax.set_xlabel("trace time (days since the first round)")
    ax.set_title("Allocator round trip")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3, which="both")

    backends = sorted({r["backend"] for r in rows if r["backend"]})
    fig.suptitle(f"Trace replay: {len(rows)} rounds"
                 + (f", backend {', '.join(backends)}" if backends else ""))
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return 0


def plot_fill(rows, out):
    curves = OrderedDict()
    for r in rows:
        curves.setdefault(r["policy"], []).append(
            (float(r["arrived_gpu_demand_pct"]), float(r["unallocated_gpu_pct"]), int(r["failed_pods"])))
    if not curves:
        print("no fill points to plot", file=sys.stderr)
        return 1
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [2.2, 1]})
    for policy, pts in curves.items():
        ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1.4, label=policy)
    top = max(p[0] for pts in curves.values() for p in pts)
    ax.plot([0, top], [100, 100 - top], ":", color="gray", lw=1, label="nothing fragmented (100 − demand)")
    ax.set_xlabel("arrived GPU demand (% of cluster GPU capacity)")
    ax.set_ylabel("unallocated GPU (% of capacity)")
    ax.set_title("Unallocated GPU as pods arrive (lower is better)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    # Zoom on the end, where policies differ.
    inset = ax.inset_axes([0.55, 0.5, 0.42, 0.42])
    for policy, pts in curves.items():
        tail = [p for p in pts if p[0] >= 0.8 * top]
        inset.plot([p[0] for p in tail], [p[1] for p in tail], lw=1.2)
    inset.set_title("last 20% of demand", fontsize=8)
    inset.tick_params(labelsize=7)
    inset.grid(alpha=0.3)

    names = list(curves)
    finals = [curves[n][-1][1] for n in names]
    failed = [curves[n][-1][2] for n in names]
    bars = bx.bar(range(len(names)), finals, color=[f"C{i}" for i in range(len(names))])
    for b, v, nf in zip(bars, finals, failed):
        bx.annotate(f"{v:.2f}%\n{nf} failed", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    bx.set_xticks(range(len(names)))
    bx.set_xticklabels(names, rotation=15)
    bx.set_ylabel("unallocated GPU at the end (%)")
    bx.set_title(f"Final value (arrived demand {curves[names[0]][-1][0]:.1f}%)")
    bx.set_ylim(0, max(finals) * 1.25 if max(finals) > 0 else 1)
    bx.grid(axis="y", alpha=0.3)
    fig.suptitle("FGD fill experiment: empty cluster, pods arrive in creation order and never leave")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return 0


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--fill":
        return plot_fill(read_rows(args[1]), args[2])
    if len(args) == 2 and not args[0].startswith("-"):
        return plot_rounds(read_rows(args[0]), args[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
