#!/usr/bin/python3
"""Several builds of `sluice solve` on the same DIMACS networks, alternating within each
repetition: the solver's time and pivot count as `--progress` prints them (milliseconds:
for solves of 10 ms and more), per build and network. For solver changes that must not
change the pivots, only their cost (every build's pivot counts are printed side by side).
Writes solve.csv, summary.txt (medians, fastest, and each build's median over the first
build's) and solve.png.

  bench/solve_builds.py --build NAME=SLUICE ... --file NET.min ... --out DIR [--reps 5]
                        [--algorithm auto|network-simplex]
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PROGRESS = re.compile(r"\[network-simplex\] (?:warm start, )?(\d+) pivots, ([0-9.]+) s")


def solve(sluice, net, algorithm):
    p = subprocess.run([sluice, "solve", net, "--solver", "cpu", "--algorithm", algorithm, "--progress"],
                       capture_output=True, text=True)
    m = PROGRESS.findall(p.stderr)
    if p.returncode != 0 or not m:
        sys.exit(f"{sluice} solve {net} failed ({p.returncode}) or printed no network simplex line:\n{p.stderr}")
    pivots, seconds = m[-1]
    return int(pivots), float(seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", action="append", required=True, help="NAME=PATH of a sluice binary")
    ap.add_argument("--file", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--algorithm", default="auto", help="passed to sluice solve (network-simplex: always pivots)")
    args = ap.parse_args()
    builds = [b.split("=", 1) for b in args.build]
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for net in args.file:
        name = os.path.basename(net)
        for rep in range(args.reps):
            for build, sluice in builds:
                pivots, seconds = solve(sluice, net, args.algorithm)
                rows.append({"network": name, "build": build, "rep": rep, "pivots": pivots, "solve_s": seconds})
                print(f"{name:24s} {build:10s} rep {rep}: {pivots} pivots, {seconds:.3f} s", flush=True)
    with open(os.path.join(args.out, "solve.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["network", "build", "rep", "pivots", "solve_s"])
        w.writeheader()
        w.writerows(rows)

    names = [os.path.basename(n) for n in args.file]
    first = builds[0][0]
    lines = []
    ratios = {b: [] for b, _ in builds[1:]}
    for name in names:
        def times(b):
            return [r["solve_s"] for r in rows if r["network"] == name and r["build"] == b]
        base = statistics.median(times(first))
        if base <= 0:  # `--progress` prints milliseconds: nothing to compare below that
            sys.exit(f"{name}: the first build's median solve time is below the timer's millisecond")
        pivots = {b: sorted({r["pivots"] for r in rows if r["network"] == name and r["build"] == b}) for b, _ in builds}
        lines.append(f"{name}: pivots " + ", ".join(f"{b} {'/'.join(map(str, p))}" for b, p in pivots.items()))
        for b, _ in builds:
            t = times(b)
            ratio = statistics.median(t) / base if base > 0 else float("nan")
            if b != first:
                ratios[b].append(ratio)
            lines.append(f"  {b:10s} median {statistics.median(t):.4f} s  fastest {min(t):.4f} s  median / {first} {ratio:.3f}")
    summary = "\n".join(lines)
    print(summary)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(summary + "\n")

    fig, ax = plt.subplots(figsize=(10, 0.5 * len(names) * len(ratios) + 2))
    height = 0.8 / max(1, len(ratios))
    for k, (b, values) in enumerate(ratios.items()):
        ys = [i + k * height for i in range(len(names))]
        ax.barh(ys, values, height=height, label=b)
        for y, v in zip(ys, values):
            ax.text(v, y, f" {v:.2f}", va="center", fontsize=7)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))])
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel(f"median solve time / median of {first} (below 1: faster)")
    ax.set_title(f"sluice solve --solver cpu --algorithm {args.algorithm}, builds alternating, {args.reps} runs each")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "solve.png"), dpi=110)


if __name__ == "__main__":
    main()
