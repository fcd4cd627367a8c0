#!/usr/bin/python3
"""End-to-end `sluice allocate` benchmark: where the time goes, how much memory it takes.

For each case (the openb trace, synthetic snapshots of growing size) and cost model, runs
`sluice allocate` as a real process under /usr/bin/time, alternating the solver backends
(ours, LEMON NetworkSimplex) in the same run, and records wall time, peak memory and the
breakdown the tool reports (decode, build, solve, repair, extract). Writes allocate.csv,
summary.txt (medians and ratios) and allocate.png.

  bench/allocate_bench.py --sluice build/main/bin/sluice --out DIR [--reps 3] [--quick]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

MODELS = ["spread", "pack", "quincy", "priority", "fgd"]


def run(cmd):
    timed = ["/usr/bin/time", "-f", "%e %M"] + cmd
    p = subprocess.run(timed, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    wall, peak_kib = p.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak_kib) / 1024.0, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small cases only (a smoke run)")
    ap.add_argument("--openb", default=os.path.join(os.path.dirname(__file__), "..", "datasets", "openb"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sluice-allocate-bench-")

    # 1. Inputs.
    cases = []
    openb = os.path.join(work, "openb.bin")
    run([args.sluice, "import-openb", "--nodes", os.path.join(args.openb, "openb_node_list_all_node.csv"),
         "--pods", os.path.join(args.openb, "openb_pod_list_default.csv"), "-o", openb])
    cases.append(("openb", 1523, 8152, 0.0, openb, MODELS, ["cpu", "lemon"]))
    sizes = [(1000, 10000), (10000, 100000)] if args.quick else [(1000, 10000), (10000, 100000), (100000, 1000000)]
    for machines, tasks in sizes:
        variants = [(0.0, 0), (0.3, 0)] + ([(0.0, 2000)] if machines >= 100000 else [])
        for running, shapes in variants:
            path = os.path.join(work, f"syn_{machines}_{tasks}_{running}_{shapes}.bin")
            print(f"generating {machines} machines, {tasks} tasks, running share {running}, "
                  f"shape catalogue {shapes or 'none'}", flush=True)
            run([args.sluice, "gen-snapshot", "--machines", str(machines), "--tasks", str(tasks),
                 "--running", str(running), "--shapes", str(shapes), "--seed", "1", "-o", path])
            models = MODELS if machines < 100000 else ["spread", "fgd"]
            solvers = ["cpu", "lemon"] if tasks <= 100000 or running == 0.0 else ["cpu"]
            name = f"synthetic-{machines}m-{tasks}t-r{running}" + (f"-shapes{shapes}" if shapes else "")
            cases.append((name, machines, tasks, running, path, models, solvers))

    # 2. Runs: repetitions outermost, solvers alternating, so drift hits all alike.
    rows = []
    total_runs = sum(len(c[5]) * len(c[6]) for c in cases) * args.reps
    done = 0
    for rep in range(args.reps):
        for name, machines, tasks, running, path, models, solvers in cases:
            for model in models:
                for solver in solvers:
                    out_json = os.path.join(work, "out.json")
                    wall, peak, _ = run([args.sluice, "allocate", path, "--cost-model", model, "--solver", solver,
                                         "-q", "-o", out_json])
                    with open(out_json) as f:
                        a = json.load(f)
                    t = a["timings_s"]
                    overhead = t["build"] + t["repair"] + t["extract"]
                    rows.append({
                        "case": name, "machines": machines, "tasks": tasks, "running_share": running,
                        "model": model, "solver": solver, "rep": rep, "wall_s": wall, "peak_mib": round(peak, 1),
                        "decode_s": t["decode"], "build_s": t["build"], "solve_s": t["solve"],
                        "repair_s": t["repair"], "extract_s": t["extract"], "total_s": t["total"],
                        "overhead_share": round(overhead / t["total"], 4) if t["total"] > 0 else 0,
                        "placed": a["counts"]["placed"], "kept": a["counts"]["kept"],
                        "migrated": a["counts"]["migrated"], "preempted": a["counts"]["preempted"],
                        "unscheduled": a["counts"]["unscheduled"], "objective": a["objective"],
                        "shapes": a["network"]["shapes"], "nodes": a["network"]["nodes"], "arcs": a["network"]["arcs"],
                        "repaired": a["network"]["repaired"],
                    })
                    done += 1
                    print(f"[{done}/{total_runs}] {name} {model} {solver}: wall {wall:.3f} s, solve {t['solve']:.3f} s, "
                          f"peak {peak:.0f} MiB, overhead {rows[-1]['overhead_share']:.1%}", flush=True)

    csv_path = os.path.join(args.out, "allocate.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)

    # 3. Medians and same-run ratios.
    lines = ["case | model | solver | wall s | decode | build | solve | repair | extract | total | "
             "(build+repair+extract)/total | peak MiB | placed | unscheduled | objective | solve ours/LEMON"]
    med = {}
    for r in rows:
        med.setdefault((r["case"], r["model"], r["solver"]), []).append(r)
    for (case, model, solver), rs in med.items():
        m = {k: statistics.median(x[k] for x in rs) for k in
             ("wall_s", "decode_s", "build_s", "solve_s", "repair_s", "extract_s", "total_s", "overhead_share", "peak_mib")}
        objectives = {x["objective"] for x in rs}
        ratio = ""
        if solver == "cpu" and (case, model, "lemon") in med:
            lemon = statistics.median(x["solve_s"] for x in med[(case, model, "lemon")])
            ratio = f"{m['solve_s'] / lemon:.2f}" if lemon > 0 else ""
            lemon_obj = {x["objective"] for x in med[(case, model, "lemon")]}
            if lemon_obj != objectives:
                ratio += f" (OBJECTIVE MISMATCH {objectives} vs {lemon_obj})"
        lines.append(f"{case} | {model} | {solver} | {m['wall_s']:.3f} | {m['decode_s']:.3f} | {m['build_s']:.3f} | "
                     f"{m['solve_s']:.3f} | {m['repair_s']:.3f} | {m['extract_s']:.3f} | {m['total_s']:.3f} | "
                     f"{m['overhead_share']:.1%} | {m['peak_mib']:.0f} | {rs[0]['placed']} | {rs[0]['unscheduled']} | "
                     f"{sorted(objectives)[0]} | {ratio}")
    summary = "\n".join(lines)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(summary + "\n")
    print(summary)

    # 4. Plot: stacked time breakdown (our solver) per case and model.
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot (install python3-matplotlib)")
        return
    keys = [k for k in med if k[2] == "cpu"]
    labels = [f"{c.replace('synthetic-', '')} {m}" for c, m, _ in keys]
    parts = ["decode_s", "build_s", "solve_s", "repair_s", "extract_s"]
    colors = ["#bbbbbb", "#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, max(5, 0.28 * len(keys) + 1.5)),
                                      gridspec_kw={"width_ratios": [3, 2]})
    # Left: where the time goes, as shares of the total (one bar per case and model).
    start = [0.0] * len(keys)
    for part, color in zip(parts, colors):
        vals = []
        for k in keys:
            total = statistics.median(x["total_s"] for x in med[k])
            vals.append(statistics.median(x[part] for x in med[k]) / total if total > 0 else 0)
        left.barh(range(len(keys)), vals, left=start, color=color, label=part[:-2])
        start = [a + v for a, v in zip(start, vals)]
    for i, k in enumerate(keys):
        total = statistics.median(x["total_s"] for x in med[k])
        left.text(1.01, i, f"{total:.3f} s", va="center", fontsize=7)
    left.set_yticks(range(len(keys)))
    left.set_yticklabels(labels, fontsize=7)
    left.invert_yaxis()
    left.set_xlim(0, 1.15)
    left.axvline(0.25, color="black", lw=0.6, ls=":")
    left.set_xlabel("share of sluice allocate's total time (our solver; median); right: total")
    left.legend(fontsize=8, loc="lower right")
    # Right: total time against tasks, per model and solver.
    for model in MODELS:
        for solver, style in (("cpu", "-o"), ("lemon", "--s")):
            pts = sorted((rs[0]["tasks"], statistics.median(x["total_s"] for x in rs))
                         for (c, m, sv), rs in med.items()
                         if m == model and sv == solver and rs[0]["running_share"] == 0.0 and "shapes" not in c)
            if pts:
                right.plot([p[0] for p in pts], [p[1] for p in pts], style, label=f"{model} ({solver})", ms=4)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("tasks (openb = 8,152; synthetic with no running tasks)")
    right.set_ylabel("total seconds, median")
    right.legend(fontsize=7)
    right.grid(True, which="both", lw=0.3)
    fig.suptitle("sluice allocate end to end: decode, build, solve, repair, extract")
    fig.tight_layout()
    png = os.path.join(args.out, "allocate.png")
    fig.savefig(png, dpi=130)
    print(f"wrote {csv_path}, {png}")


if __name__ == "__main__":
    main()
