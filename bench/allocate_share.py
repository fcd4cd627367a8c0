#!/usr/bin/python3
"""Where one `sluice allocate` of a large snapshot spends its time, and the share of build +
repair + extract in it (issue: under 25% at 1M tasks).

usage: allocate_share.py --sluice BIN --snapshot FILE [--reps N] [--cost-model M] --out DIR

Runs the allocation --reps times with transparent huge pages (the tool's default) and as
many times without (SLUICE_HUGE_PAGES=0), alternating, each in a fresh process. Prints each
run's breakdown and the medians; writes DIR/share.csv and DIR/share.png (one stacked bar per
run).
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

STEPS = ["decode", "validate", "build", "solve", "repair", "extract"]
COLOURS = ["tab:gray", "tab:olive", "tab:blue", "tab:green", "tab:orange", "tab:red"]


def run(sluice, snapshot, model, huge_pages):
    env = dict(os.environ)
    env["SLUICE_HUGE_PAGES"] = "1" if huge_pages else "0"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sluice, "allocate", snapshot, "--cost-model", model, "-q", "-o", out.name], env=env,
                       check=True)
        with open(out.name) as f:
            doc = json.load(f)
    t = doc["timings_s"]
    row = {"huge_pages": int(huge_pages), **{s: t[s] for s in STEPS}, "total": t["total"],
           "placed": doc["counts"]["placed"], "unscheduled": doc["counts"]["unscheduled"]}
    row["share"] = (t["build"] + t["repair"] + t["extract"]) / t["total"]
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sluice", required=True)
    p.add_argument("--snapshot", required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--cost-model", default="spread")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for rep in range(a.reps):
        for huge in (True, False):
            r = run(a.sluice, a.snapshot, a.cost_model, huge)
            r["rep"] = rep
            rows.append(r)
            print(f"rep {rep} huge pages {'on ' if huge else 'off'}: " +
                  ", ".join(f"{s} {r[s]:.3f}" for s in STEPS) +
                  f", total {r['total']:.3f} s; build+repair+extract {100 * r['share']:.1f}%", flush=True)
    print()
    for huge in (True, False):
        sel = [r for r in rows if r["huge_pages"] == int(huge)]
        med = {k: statistics.median(r[k] for r in sel) for k in STEPS + ["total", "share"]}
        print(f"median, huge pages {'on ' if huge else 'off'}: " + ", ".join(f"{s} {med[s]:.3f}" for s in STEPS) +
              f", total {med['total']:.3f} s; build+repair+extract {100 * med['share']:.1f}% "
              f"(range {100 * min(r['share'] for r in sel):.1f}-{100 * max(r['share'] for r in sel):.1f}%)")
    with open(os.path.join(a.out, "share.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["rep", "huge_pages"] + STEPS + ["total", "share", "placed", "unscheduled"])
        w.writeheader()
        w.writerows(rows)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    labels = [f"{'THP' if r['huge_pages'] else 'no THP'}\nrep {r['rep']}" for r in rows]
    bottom = [0.0] * len(rows)
    for step, colour in zip(STEPS, COLOURS):
        vals = [r[step] for r in rows]
        ax.bar(labels, vals, bottom=bottom, color=colour, label=step)
        bottom = [b + v for b, v in zip(bottom, vals)]
    for i, r in enumerate(rows):
        ax.text(i, bottom[i], f"{100 * r['share']:.0f}%", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("seconds")
    ax.set_title(f"sluice allocate {os.path.basename(a.snapshot)} ({a.cost_model}): "
                 "label = build + repair + extract share")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "share.png"), dpi=120)
    print(f"wrote {a.out}/share.csv and {a.out}/share.png")


if __name__ == "__main__":
    sys.exit(main())
