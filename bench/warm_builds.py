#!/usr/bin/python3
"""Warm re-solves of two builds, alternating: `sluice_bench_warm` of build A, then of build
B, ROUNDS times, on the same networks and change sets (same seed). Per network and share of
changes: the median warm re-solve time of each build and B / A. Writes warm_builds.csv
(every warm solve), summary.txt and warm_builds.png.

  bench/warm_builds.py --a NAME=BENCH_WARM --b NAME=BENCH_WARM --file NET.min ... --out DIR
                       [--rounds 3] [--fractions 0.001,0.01]
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def run(bench, files, fractions, out_csv):
    cmd = [bench, "--alpha", "4", "--reps", "3", "--fractions", fractions, "--csv", out_csv]
    for f in files:
        cmd += ["--file", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    with open(out_csv) as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--file", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fractions", default="0.001,0.01")
    args = ap.parse_args()
    builds = [args.a.split("=", 1), args.b.split("=", 1)]
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for rnd in range(args.rounds):
        for name, bench in builds:
            for r in run(bench, args.file, args.fractions, os.path.join(args.out, "last_run.csv")):
                rows.append({"build": name, "round": rnd, "instance": r["instance"], "fraction": r["fraction"],
                             "rep": r["rep"], "warm_s": r["warm_s"], "cold_s": r["cold_s"], "status": r["status"]})
            print(f"round {rnd}: {name} done", flush=True)
    os.remove(os.path.join(args.out, "last_run.csv"))
    with open(os.path.join(args.out, "warm_builds.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)

    a, b = builds[0][0], builds[1][0]
    keys = sorted({(r["instance"], r["fraction"]) for r in rows}, key=lambda k: (k[0], float(k[1])))
    lines, labels, ratios = [], [], []
    for inst, frac in keys:
        def med(build):
            return statistics.median(float(r["warm_s"]) for r in rows
                                     if r["build"] == build and r["instance"] == inst and r["fraction"] == frac)
        ta, tb = med(a), med(b)
        lines.append(f"{inst} {float(frac):.1%}: warm {a} {ta:.4f} s, {b} {tb:.4f} s, {b}/{a} {tb / ta:.3f}")
        labels.append(f"{inst} {float(frac):.1%}")
        ratios.append(tb / ta)
    summary = "\n".join(lines)
    print(summary)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(summary + "\n")
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(labels) + 1.5))
    ax.barh(range(len(labels)), ratios)
    for i, v in enumerate(ratios):
        ax.text(v, i, f" {v:.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel(f"median warm re-solve time, {b} / {a} (below 1: faster)")
    ax.set_title("WarmSolver re-solves after changes, two builds alternating")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "warm_builds.png"), dpi=110)


if __name__ == "__main__":
    main()
