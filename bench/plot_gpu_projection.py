#!/usr/bin/env python3
"""The GPU solver's projected device time per instance (a projection from the host
executor's work model, not a device measurement). Left: projected time as the kernels are
written (host-driven rounds), the same counts with the round loop kept on the device, and
our CPU solver measured in the same run, on a log scale. Right: what the projection is made
of (launch latency, host synchronisations, memory traffic, transfers), as shares.
Usage: plot_gpu_projection.py projection.csv out.png"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    rows.sort(key=lambda r: int(r["arcs"]))
    names = [f'{r["instance"].replace(".min", "")} ({int(r["arcs"]) / 1e6:.2f}M arcs)' for r in rows]
    y = list(range(len(rows)))
    proj = [float(r["proj_total_s"]) for r in rows]
    # About 1 us per launch through a CUDA graph or a persistent kernel, no copy per round.
    loop = [int(r["launches"]) * 1e-6 + float(r["proj_memory_s"]) + float(r["proj_transfer_s"]) for r in rows]
    cpu = [float(r["cpu_solve_s"]) for r in rows]

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 0.55 * len(rows) + 2.2),
                                      gridspec_kw={"width_ratios": [3, 2]})
    h = 0.27
    left.barh([i + h for i in y], proj, h, color="#4c72b0", label="projected H100, rounds driven by the host")
    left.barh(y, loop, h, color="#8fb0dd", label="projected H100, round loop on the device")
    left.barh([i - h for i in y], cpu, h, color="#c44e52", label="our CPU solver, measured (this 2-core machine)")
    for i in y:
        left.text(max(proj[i], cpu[i]) * 1.1, i, f"{proj[i] / cpu[i]:.2f}x / {loop[i] / cpu[i]:.2f}x",
                  va="center", fontsize=7)
    left.set_xscale("log")
    left.set_title("seconds (log); labels: projected / CPU, host-driven and device loop", fontsize=9)
    left.set_yticks(y)
    left.set_yticklabels(names, fontsize=8)
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, frameon=False)
    left.set_xlim(right=max(max(proj), max(cpu)) * 12)

    parts = [("proj_launch_s", "launch latency", "#4c72b0"), ("proj_sync_s", "host syncs", "#8172b2"),
             ("proj_memory_s", "memory traffic", "#55a868"), ("proj_transfer_s", "transfers", "#ccb974")]
    start = [0.0] * len(rows)
    for key, label, color in parts:
        share = [float(r[key]) / float(r["proj_total_s"]) for r in rows]
        right.barh(y, share, 0.6, left=start, color=color, label=label)
        start = [s + v for s, v in zip(start, share)]
    right.set_yticks(y)
    right.set_yticklabels([])
    right.set_xlim(0, 1)
    right.set_title("share of the projected time (host-driven rounds)", fontsize=9)
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=4, frameon=False)
    fig.suptitle("GPU solver: projected device time from the host executor's work model (a projection, no device used)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
