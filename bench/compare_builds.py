#!/usr/bin/python3
"""Two builds of `sluice allocate` on the same snapshots, alternating in one run: the time
the solver took in all (first solve and re-solve rounds), the allocation's total, and what
each placed. For changes to the engine that must pay off where users see it (e.g. warm
re-solve rounds against cold ones). Writes compare.csv, summary.txt (medians and ratios
B / A) and compare.png.

  bench/compare_builds.py --a OLD_SLUICE --b NEW_SLUICE --out DIR [--reps 3] [--large]

Snapshots: 12,500 machines / 150k tasks (seed 5, and seed 9 with 30% running), and with
--large 100,000 machines / 1M tasks (seed 5); cost models spread, priority, fgd.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODELS = ["spread", "priority", "fgd"]


def allocate(sluice, snap, model, out_json):
    p = subprocess.run([sluice, "allocate", snap, "--cost-model", model, "-q", "-o", out_json],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{sluice} allocate {snap} --cost-model {model} failed ({p.returncode}):\n{p.stderr}")
    with open(out_json) as f:
        d = json.load(f)
    t = d["timings_s"]
    return {"solve_s": t["solve"], "total_s": t["total"] - t["decode"], "placed": d["counts"]["placed"],
            "resolves": d["network"]["resolves"], "objective": d["objective"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="the baseline sluice binary")
    ap.add_argument("--b", required=True, help="the changed sluice binary")
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--large", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp()
    cases = [("150k", ["--machines", "12500", "--tasks", "150000", "--seed", "5"]),
             ("150k-running", ["--machines", "12500", "--tasks", "150000", "--running", "0.3", "--seed", "9"])]
    if args.large:
        cases.append(("1M", ["--machines", "100000", "--tasks", "1000000", "--seed", "5"]))
    rows = []
    for name, gen in cases:
        snap = os.path.join(tmp, name + ".snap")
        subprocess.run([args.a, "gen-snapshot", *gen, "-o", snap], check=True, capture_output=True)
        for model in MODELS:
            for rep in range(1, args.reps + 1):
                # Alternating, and A first on odd reps, B first on even ones.
                order = [("A", args.a), ("B", args.b)] if rep % 2 else [("B", args.b), ("A", args.a)]
                for build, sluice in order:
                    r = allocate(sluice, snap, model, os.path.join(tmp, "out.json"))
                    r.update(case=name, model=model, rep=rep, build=build)
                    rows.append(r)
                    print(f"{name:13s} {model:9s} rep {rep} {build}: solve {r['solve_s']:.3f} s, "
                          f"total {r['total_s']:.3f} s, {r['resolves']} re-solves, placed {r['placed']}",
                          flush=True)
    fields = ["case", "model", "rep", "build", "solve_s", "total_s", "resolves", "placed", "objective"]
    with open(os.path.join(args.out, "compare.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: r[k] for k in fields})

    def median(case, model, build, key):
        return statistics.median(r[key] for r in rows if r["case"] == case and r["model"] == model and r["build"] == build)

    lines = [f"A = {args.a}", f"B = {args.b}", "medians; ratio = B / A",
             f"{'case':13s} {'model':9s} {'solve A':>8s} {'solve B':>8s} {'ratio':>6s} {'total A':>8s} "
             f"{'total B':>8s} {'ratio':>6s} {'placed A':>9s} {'placed B':>9s}"]
    labels, solve_ratio, total_ratio = [], [], []
    for name, _ in cases:
        for model in MODELS:
            sa, sb = median(name, model, "A", "solve_s"), median(name, model, "B", "solve_s")
            ta, tb = median(name, model, "A", "total_s"), median(name, model, "B", "total_s")
            pa, pb = median(name, model, "A", "placed"), median(name, model, "B", "placed")
            lines.append(f"{name:13s} {model:9s} {sa:8.3f} {sb:8.3f} {sb / sa:6.2f} {ta:8.3f} {tb:8.3f} "
                         f"{tb / ta:6.2f} {pa:9.0f} {pb:9.0f}")
            labels.append(f"{name}\n{model}")
            solve_ratio.append(sb / sa)
            total_ratio.append(tb / ta)
    summary = "\n".join(lines) + "\n"
    print(summary)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(summary)

    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(labels)), 4))
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], solve_ratio, width=0.4, label="solver time (all rounds)")
    ax.bar([i + 0.2 for i in x], total_ratio, width=0.4, label="allocation total (decode aside)")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("B / A (median; below 1: B is faster)")
    ax.set_title("sluice allocate: build B against build A, same run, alternating")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "compare.png"), dpi=110)
    print("plot:", os.path.join(args.out, "compare.png"))


if __name__ == "__main__":
    main()
