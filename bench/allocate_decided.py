#!/usr/bin/python3
"""Who decides each placement, and what it costs: `sluice allocate` of this build against a
baseline build (another commit), alternating in the same run.

For each snapshot (openb; gen-snapshot at 12,500 machines / 150k tasks with 30% running,
seed 9; 100,000 machines / 1M tasks, seed 5, with and without 30% running) and cost model,
runs both binaries as real processes, --reps times each, alternating, and records: tasks
placed, the share decided by the first solve, by re-solves and by the fallback (candidates,
first fit), wall time and the tool's own total (without the decode of the file). Writes
decided.csv, summary.txt (medians; time ratio current / baseline) and decided.png.

  bench/allocate_decided.py --sluice build/main/bin/sluice --baseline OLD/bin/sluice --out DIR
                            [--reps 3] [--quick]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

MODELS = ["spread", "pack", "quincy", "priority", "fgd", "alloc"]


def run(cmd, env=None):
    timed = ["/usr/bin/time", "-f", "%e %M"] + cmd
    p = subprocess.run(timed, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    wall, peak_kib = p.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak_kib) / 1024.0


def allocate(binary, snapshot, model, out_json):
    wall, peak = run([binary, "allocate", snapshot, "--cost-model", model, "-q", "-o", out_json])
    with open(out_json) as f:
        a = json.load(f)
    n = a["network"]
    placed = len(a["placements"])
    t = a["timings_s"]
    return {
        "placed": placed,
        "unscheduled": len(a["unscheduled"]),
        # A baseline without re-solves reports none of these: its flow placements are
        # those the repair pass did not move (placed - repaired is an upper bound there).
        "by_flow": n.get("placed_by_flow"),
        "by_resolve": n.get("placed_by_resolve", 0),
        "by_fallback": n.get("placed_by_fallback"),
        "resolves": n.get("resolves", 0),
        "wall_s": wall,
        "allocate_s": t["total"] - t["decode"],
        "solve_s": t["solve"],
        "peak_mib": peak,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--baseline", required=True, help="the sluice binary of the commit to compare with")
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="openb and 150k tasks only")
    ap.add_argument("--openb", default=os.path.join(os.path.dirname(__file__), "..", "datasets", "openb"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sluice-decided-")

    cases = []
    openb = os.path.join(work, "openb.bin")
    run([args.sluice, "import-openb", "--nodes", os.path.join(args.openb, "openb_node_list_all_node.csv"),
         "--pods", os.path.join(args.openb, "openb_pod_list_default.csv"), "-o", openb])
    cases.append(("openb", openb))
    synthetic = [(12500, 150000, 0.3, 9)]
    if not args.quick:
        synthetic += [(100000, 1000000, 0.0, 5), (100000, 1000000, 0.3, 5)]
    for machines, tasks, running, seed in synthetic:
        path = os.path.join(work, f"syn_{machines}_{tasks}_{running}.bin")
        print(f"generating {machines} machines, {tasks} tasks, running {running}, seed {seed}", flush=True)
        run([args.sluice, "gen-snapshot", "--machines", str(machines), "--tasks", str(tasks), "--running",
             str(running), "--seed", str(seed), "-o", path])
        cases.append((f"{machines // 1000}k machines, {tasks // 1000}k tasks, running {running}", path))

    rows = []
    out_json = os.path.join(work, "a.json")
    for name, path in cases:
        for model in MODELS:
            for rep in range(args.reps):
                for which, binary in (("current", args.sluice), ("baseline", args.baseline)):
                    if which == "baseline" and model == "alloc":
                        continue  # the baseline has no such model
                    r = allocate(binary, path, model, out_json)
                    r.update({"case": name, "model": model, "build": which, "rep": rep})
                    rows.append(r)
                    print(f"{name:40s} {model:8s} {which:8s} rep {rep}: placed {r['placed']}, flow "
                          f"{r['by_flow']}, re-solves {r['by_resolve']}, fallback {r['by_fallback']}, "
                          f"{r['allocate_s']:.3f} s", flush=True)

    fields = ["case", "model", "build", "rep", "placed", "unscheduled", "by_flow", "by_resolve", "by_fallback",
              "resolves", "wall_s", "allocate_s", "solve_s", "peak_mib"]
    with open(os.path.join(args.out, "decided.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: r[k] for k in fields})

    # Medians per case, model and build.
    lines = ["case | model | placed (baseline → current) | decided by a solve % | fallback % | re-solves | "
             "allocate s (baseline → current) | ratio"]
    summary = []
    for name, _ in cases:
        for model in MODELS:
            cur = [r for r in rows if r["case"] == name and r["model"] == model and r["build"] == "current"]
            base = [r for r in rows if r["case"] == name and r["model"] == model and r["build"] == "baseline"]
            med = lambda rs, k: statistics.median(r[k] for r in rs) if rs else None
            placed = cur[0]["placed"]
            decided = 100.0 * (cur[0]["by_flow"] + cur[0]["by_resolve"]) / max(1, placed)
            fallback = 100.0 * cur[0]["by_fallback"] / max(1, placed)
            t_cur = med(cur, "allocate_s")
            t_base = med(base, "allocate_s")
            ratio = t_cur / t_base if t_base else None
            summary.append((name, model, placed, base[0]["placed"] if base else None, decided, fallback,
                            cur[0]["resolves"], t_base, t_cur, ratio))
            lines.append(f"{name} | {model} | {base[0]['placed'] if base else '-'} → {placed} | {decided:.2f} | "
                         f"{fallback:.2f} | {cur[0]['resolves']} | "
                         f"{(f'{t_base:.3f}' if t_base else '-')} → {t_cur:.3f} | {(f'{ratio:.2f}' if ratio else '-')}")
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not found: no plot")
        return
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 4.2), sharey=True)
    if len(cases) == 1:
        axes = [axes]
    for ax, (name, _) in zip(axes, cases):
        rows_c = [s for s in summary if s[0] == name]
        labels = [s[1] for s in rows_c]
        cur = [r for r in rows if r["case"] == name and r["build"] == "current" and r["rep"] == 0]
        flow = [100.0 * next(r for r in cur if r["model"] == m)["by_flow"] / max(1, s[2]) for m, s in zip(labels, rows_c)]
        res = [100.0 * next(r for r in cur if r["model"] == m)["by_resolve"] / max(1, s[2]) for m, s in zip(labels, rows_c)]
        fb = [100.0 * next(r for r in cur if r["model"] == m)["by_fallback"] / max(1, s[2]) for m, s in zip(labels, rows_c)]
        x = range(len(labels))
        ax.bar(x, flow, label="first solve", color="#2b6cb0")
        ax.bar(x, res, bottom=flow, label="re-solves", color="#63b3ed")
        ax.bar(x, fb, bottom=[a + b for a, b in zip(flow, res)], label="fallback (first fit)", color="#e53e3e")
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, rotation=30)
        ax.set_title(name, fontsize=9)
        ax.set_ylim(0, 100)
    axes[0].set_ylabel("placements decided by (%)")
    axes[-1].legend(loc="lower right", fontsize=8)
    fig.suptitle("Who decides each placement (this build); summary.txt has counts and times against the baseline")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "decided.png"), dpi=110)
    print("plot:", os.path.join(args.out, "decided.png"))


if __name__ == "__main__":
    main()
