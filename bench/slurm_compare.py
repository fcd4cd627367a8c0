#!/usr/bin/python3
"""The Slurm bridge against Slurm's own scheduler, on the same job streams (issue 16).

For each seed and each scheduler, a fresh local Slurm (scripts/slurm-cluster.sh, node shapes
from --shapes, by default 36 nodes in the openb trace's proportions) is fed the same job
stream: pods of an openb pod list, shuffled with the seed, as `sbatch` sleep jobs (CPUs,
--mem, --gres=gpu:N; sleeping longer than the run, --time set to the sleep plus a margin).
The stream stops when the GPUs asked reach 100% of the cluster's, waits until allocation
settles, and records the allocated share; then it goes on to --asked (1.3x) and records
again.
  - bridge: jobs go to the queue partition `gpu`; `sluice slurm` asks a `sluice serve` for
    each round and pins the jobs in `gpu-run`;
  - slurm: jobs go to partition `slurm`, scheduled by Slurm itself (sched/backfill,
    select/cons_tres with CR_Core_Memory), as a site would run it.
GPU-share pods are left out of the stream: Slurm 22.05 shares GPUs only through gres/shard,
where Slurm chooses the device, and the bridge does not place shares yet. A pod's GPU model
(gpu_spec) is not asked for either: every job takes any GPU type.

Writes OUT/timeline.csv (every half second: GPUs asked and allocated in %, jobs pending),
OUT/summary.csv (per scheduler and seed), OUT/rounds_SEED.csv (the bridge's rounds),
OUT/slurm_compare.png, and a table on stdout.

  bench/slurm_compare.py --sluice build/main/bin/sluice --out DIR [--seeds 42,43,44]
                         [--pods datasets/openb/openb_pod_list_default.csv] [--asked 1.3]
"""
import argparse
import csv
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "slurm"))
from slurm_bench import Cluster, sh  # noqa: E402


def read_pods(path, seed):
    pods = []
    with open(path) as f:
        for r in csv.DictReader(f):
            gpus, milli = int(r["num_gpu"]), int(r["gpu_milli"])
            if gpus > 0 and milli < 1000:
                continue  # a GPU share: left out (see above)
            pods.append({"name": r["name"], "cpus": max(1, math.ceil(int(r["cpu_milli"]) / 1000)),
                         "mem": max(1, int(r["memory_mib"])), "gpus": gpus})
    pods.sort(key=lambda p: p["name"])
    random.Random(seed).shuffle(pods)
    return pods


def cluster_gpus(env):
    d = json.loads(sh(["sinfo", "--json", "--all"], env).stdout)
    total = used = 0
    for n in d["nodes"]:
        if "slurm" not in n["partitions"]:
            continue
        for item in filter(None, n["gres"].split(",")):
            total += int(item.split("(")[0].split(":")[-1])
        for item in filter(None, n["gres_used"].split(",")):
            used += int(item.split("(")[0].split(":")[-1])
    return total, used


def pending_jobs(env):
    d = json.loads(sh(["squeue", "--json", "--all"], env).stdout)
    return sum(1 for j in d["jobs"] if j["job_state"] == "PENDING")


class Sampler(threading.Thread):
    """Every half second: GPUs allocated, jobs pending, and what the stream has asked so far."""

    def __init__(self, env, capacity, rows, mode, seed):
        super().__init__(daemon=True)
        self.env, self.capacity, self.rows, self.mode, self.seed = env, capacity, rows, mode, seed
        self.asked = 0
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def sample(self):
        _, used = cluster_gpus(self.env)
        pending = pending_jobs(self.env)
        row = {"scheduler": self.mode, "seed": self.seed, "t_s": round(time.monotonic() - self.t0, 2),
               "asked_gpu_pct": round(100.0 * self.asked / self.capacity, 2),
               "allocated_gpu_pct": round(100.0 * used / self.capacity, 2), "pending": pending}
        self.rows.append(row)
        return row

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.5)


def settle(sampler, quiet_s=4.0, limit_s=60.0):
    """Waits until the allocated share and the pending count stay put for quiet_s."""
    start = time.monotonic()
    last, since = None, time.monotonic()
    while time.monotonic() - start < limit_s:
        row = sampler.sample()
        now = (row["allocated_gpu_pct"], row["pending"])
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
        time.sleep(0.5)
    return sampler.sample()


def run_one(mode, seed, args, timeline, summary):
    # Below 32768, where Linux's ephemeral ports start: a client socket cannot hold one of these.
    port = 20000 + ((os.getpid() * 10 + seed % 10) % 140) * 80
    with Cluster(0, port, args.shapes) as cluster:
        run_on(cluster, mode, seed, port, args, timeline, summary)


def run_on(cluster, mode, seed, port, args, timeline, summary):
    env, work = cluster.env, cluster.work
    procs = []
    try:
        capacity, _ = cluster_gpus(env)
        partition = "gpu" if mode == "bridge" else "slurm"
        rounds_csv = os.path.join(args.out, f"rounds_{seed}.csv")
        if mode == "bridge":
            endpoint = f"tcp://127.0.0.1:{port + 70}"
            ready = os.path.join(work, "serve.ready")
            procs.append(subprocess.Popen([args.sluice, "serve", "--endpoint", endpoint, "--workers", "1",
                                           "--ready-file", ready, "--log-format", "text"],
                                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w")))
            for _ in range(100):
                if os.path.exists(ready):
                    break
                time.sleep(0.1)
            if os.path.exists(rounds_csv):
                os.remove(rounds_csv)
            procs.append(subprocess.Popen([args.sluice, "slurm", "--endpoint", endpoint, "--cost-model", args.model,
                                           "--interval-ms", str(args.round_ms), "--csv", rounds_csv, "-q"], env=env,
                                          stdout=subprocess.DEVNULL,
                                          stderr=open(os.path.join(args.out, f"bridge_{seed}.log"), "w")))
        pods = read_pods(args.pods, seed)
        sampler = Sampler(env, capacity, timeline, mode, seed)
        sampler.start()
        checkpoints = {}
        gap = 1.0 / args.rate
        for stop_at in (1.0, args.asked):
            while sampler.asked < stop_at * capacity and pods:
                p = pods.pop(0)
                argv = ["sbatch", "--parsable", "-p", partition, "-o", "/dev/null", "-c", str(p["cpus"]),
                        f"--mem={p['mem']}", f"--time={args.sleep_s // 60 + 10}", "-J", p["name"]]
                if p["gpus"]:
                    argv.append(f"--gres=gpu:{p['gpus']}")
                argv += ["--wrap", f"sleep {args.sleep_s}"]
                sh(argv, env)
                sampler.asked += p["gpus"]
                time.sleep(gap)
            checkpoints[stop_at] = settle(sampler)
            print(f"  {mode} seed {seed}: asked {checkpoints[stop_at]['asked_gpu_pct']:.1f}% of {capacity} GPUs, "
                  f"allocated {checkpoints[stop_at]['allocated_gpu_pct']:.1f}%, "
                  f"{checkpoints[stop_at]['pending']} pending", flush=True)
        sampler.stop.set()
        sampler.join()
        row = {"scheduler": mode, "seed": seed, "gpus": capacity,
               "asked_gpu_pct_1": checkpoints[1.0]["asked_gpu_pct"],
               "allocated_gpu_pct_1": checkpoints[1.0]["allocated_gpu_pct"],
               "unallocated_gpu_pct_at_100": round(100.0 - checkpoints[1.0]["allocated_gpu_pct"], 2),
               "pending_at_100": checkpoints[1.0]["pending"],
               "asked_gpu_pct_end": checkpoints[args.asked]["asked_gpu_pct"],
               "allocated_gpu_pct_end": checkpoints[args.asked]["allocated_gpu_pct"],
               "pending_end": checkpoints[args.asked]["pending"], "round_p50_s": "", "round_p95_s": "", "rounds": ""}
        if mode == "bridge" and os.path.exists(rounds_csv):
            with open(rounds_csv) as f:
                busy = [float(r["total_s"]) for r in csv.DictReader(f) if int(r["placed"]) > 0]
            if busy:
                busy.sort()
                row["round_p50_s"] = round(statistics.median(busy), 4)
                row["round_p95_s"] = round(busy[min(len(busy) - 1, math.ceil(0.95 * len(busy)) - 1)], 4)
                row["rounds"] = len(busy)
        summary.append(row)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def plot(timeline, summary, path, model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = {"bridge": "#1f77b4", "slurm": "#d62728"}
    names = {"bridge": f"Sluice bridge ({model})", "slurm": "Slurm (backfill, cons_tres)"}
    for mode in ("bridge", "slurm"):
        seeds = sorted({r["seed"] for r in timeline if r["scheduler"] == mode})
        for i, seed in enumerate(seeds):
            rows = [r for r in timeline if r["scheduler"] == mode and r["seed"] == seed]
            ax.plot([r["asked_gpu_pct"] for r in rows], [r["allocated_gpu_pct"] for r in rows], color=colors[mode],
                    alpha=0.8, linewidth=1.2, label=names[mode] if i == 0 else None)
    ax.plot([0, 100], [0, 100], color="grey", linewidth=0.6, linestyle=":", label="all that was asked")
    ax.axhline(100, color="grey", linewidth=0.6)
    ax.axvline(100, color="grey", linewidth=0.6, linestyle="--")
    ax.set_xlabel("GPUs asked by the jobs submitted so far (% of the cluster's)")
    ax.set_ylabel("GPUs allocated (% of the cluster's)")
    ax.set_xlim(0, max(r["asked_gpu_pct"] for r in timeline) + 2)
    ax.set_ylim(0, 102)
    means = {m: statistics.mean(r["allocated_gpu_pct_1"] for r in summary if r["scheduler"] == m)
             for m in ("bridge", "slurm") if any(r["scheduler"] == m for r in summary)}
    ax.set_title("Same job streams (openb pods as sbatch jobs), local Slurm 22.05\n" +
                 ", ".join(f"{names[m]}: {v:.1f}% allocated at 100% asked" for m, v in means.items()), fontsize=9)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pods", default=os.path.join(ROOT, "datasets/openb/openb_pod_list_default.csv"))
    ap.add_argument("--shapes", default=os.path.join(HERE, "slurm/openb_36_nodes.txt"))
    ap.add_argument("--seeds", default="42,43,44")
    ap.add_argument("--asked", type=float, default=1.3)
    ap.add_argument("--rate", type=float, default=10.0, help="jobs submitted per second")
    ap.add_argument("--round-ms", type=int, default=500)
    ap.add_argument("--model", default="alloc")
    ap.add_argument("--sleep-s", type=int, default=3600)
    ap.add_argument("--schedulers", default="bridge,slurm")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    timeline, summary = [], []
    seeds = [int(s) for s in args.seeds.split(",")]
    for seed in seeds:  # alternating: each seed runs both schedulers in turn
        for mode in args.schedulers.split(","):
            run_one(mode, seed, args, timeline, summary)
    with open(os.path.join(args.out, "timeline.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(timeline[0].keys()))
        w.writeheader()
        w.writerows(timeline)
    with open(os.path.join(args.out, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(summary[0].keys()))
        w.writeheader()
        w.writerows(summary)
    plot(timeline, summary, os.path.join(args.out, "slurm_compare.png"), args.model)
    print("\nscheduler | seeds | allocated GPU % at 100% asked | unallocated | pending | allocated at the end | "
          "pending at the end | busy round p50 / p95 s")
    for mode in args.schedulers.split(","):
        rows = [r for r in summary if r["scheduler"] == mode]
        p50 = [r["round_p50_s"] for r in rows if r["round_p50_s"] != ""]
        p95 = [r["round_p95_s"] for r in rows if r["round_p95_s"] != ""]
        print(f"{mode} | {len(rows)} | {statistics.mean(r['allocated_gpu_pct_1'] for r in rows):.2f} | "
              f"{statistics.mean(r['unallocated_gpu_pct_at_100'] for r in rows):.2f} | "
              f"{statistics.mean(r['pending_at_100'] for r in rows):.1f} | "
              f"{statistics.mean(r['allocated_gpu_pct_end'] for r in rows):.2f} | "
              f"{statistics.mean(r['pending_end'] for r in rows):.1f} | "
              + (f"{statistics.median(p50):.3f} / {max(p95):.3f}" if p50 else "-"))


if __name__ == "__main__":
    main()
