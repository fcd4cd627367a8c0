#!/usr/bin/python3
"""How long a Slurm bridge round takes with 1,000 pending jobs on 64 nodes (issue 16's target:
under 1 s at p95 through `sluice serve`, reading Slurm, solving, and every pin returned).

A fresh local Slurm of 64 nodes (scripts/slurm-cluster.sh: a100, v100, t4 and CPU nodes), a
`sluice serve`, and --reps rounds (`sluice slurm --rounds 1`) per variant on 1,000 jobs
pending in the queue partition (one CPU and 100 MiB each, every fourth with a GPU):
  - pins: the run partition is set DOWN first, so no pinned job starts; the round's time is
    the bridge's and slurmctld's work alone. The same jobs every round (sent back to the
    queue after it), so Slurm lists exactly those 1,000;
  - start: the run partition is UP, so slurmctld launches the jobs while the round applies
    and reads back (on this one host the slurmd and job processes share its two cores). New
    jobs every round; the cancelled ones stay listed until slurmctld purges them, and
    squeue --json's time grows with every record it lists (the CSV's `listed` column).
Each variant runs with both ways of pinning, alternating: `exclude` (the default: ExcNodeList,
one request to slurmctld per pin) and `nodelist` (--exclusion-pin-max-chars 0: NodeList, which
scontrol sends as three requests).
Writes OUT/rounds.csv (one row per round, the bridge's own columns), OUT/summary.txt and
OUT/rounds.png (bench/plot_slurm_latency.py).

  bench/slurm_latency.py --sluice build/main/bin/sluice --out DIR [--reps 5] [--jobs 1000] [--nodes 64]
                         [--max-pins N] [--variants pins,start] [--pin-modes exclude,nodelist]
"""
import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "slurm"))
from slurm_bench import Cluster, sh  # noqa: E402


def quiet(env):
    """Cancels every job and waits until none is left running or pending."""
    sh(["scancel", "--user", str(os.getuid()), "--full"], env, check=False)
    for _ in range(240):
        out = sh(["squeue", "--all", "-h", "-t", "PENDING,RUNNING,COMPLETING", "-o", "%i"], env).stdout
        if not out.strip():
            return
        time.sleep(0.5)
    sys.exit("jobs did not finish cancelling")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, -(-len(values) * q // 100) - 1))]


def submit(env, args):
    """The jobs of a round into the queue partition: one CPU and 100 MiB each, every fourth
    with a GPU. Returns the seconds it took."""
    t = time.monotonic()
    for i in range(args.jobs):
        argv = ["sbatch", "-p", "gpu", "-c", "1", "--mem=100", "-o", "/dev/null", "--wrap", "sleep 3600"]
        if i % 4 == 3:
            argv.insert(1, "--gres=gpu:1")
        sh(argv, env)
    return time.monotonic() - t


def back_to_the_queue(env):
    """Undoes every pin (both kinds), so the same pending jobs are placed again."""
    ids = sh(["squeue", "--all", "-h", "-t", "PENDING", "-o", "%i"], env).stdout.split()
    lines = "".join(f"update JobId={i} Partition=gpu NodeList= ExcNodeList= AdminComment=\n" for i in ids)
    subprocess.run(["scontrol"], input=lines, env=env, capture_output=True, text=True, check=True)
    return len(ids)


def one_round(cluster, endpoint, variant, pin_mode, rep, args):
    """Runs one bridge round on the jobs of its variant and returns its CSV row.

    pins: the same pending jobs every round (submitted once, sent back to the queue after
    each round), so every round sees exactly --jobs job records. start: jobs start and are
    cancelled after the round, so each round submits new ones, and the records of cancelled
    jobs stay listed until slurmctld purges them (MinJobAge)."""
    env = cluster.env
    if variant == "pins":
        sh(["scontrol", "update", "PartitionName=gpu-run", "State=DOWN"], env)
        pending = back_to_the_queue(env)
        submitted_s = submit(env, argparse.Namespace(jobs=args.jobs - pending)) if pending < args.jobs else 0.0
    else:
        quiet(env)
        sh(["scontrol", "update", "PartitionName=gpu-run", "State=UP"], env)
        submitted_s = submit(env, args)
    one = os.path.join(cluster.work, "round.csv")
    if os.path.exists(one):
        os.remove(one)
    sh([args.sluice, "slurm", "--endpoint", endpoint, "--rounds", "1", "--max-pins", str(args.max_pins), "--csv", one,
        "--exclusion-pin-max-chars", "0" if pin_mode == "nodelist" else "1024"], env)
    with open(one) as f:
        row = {"variant": variant, "pin_mode": pin_mode, "rep": rep, **next(csv.DictReader(f))}
    print(f"{variant}/{pin_mode} rep {rep}: {row['placed']} placed, {row['pinned']} pinned in {row['total_s']} s "
          f"(read {row['read_s']} with {row['listed']} job records listed, allocate {row['allocate_s']}, apply and "
          f"read back {row['apply_s']}); jobs submitted in {submitted_s:.1f} s", flush=True)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--nodes", type=int, default=64)
    ap.add_argument("--max-pins", type=int, default=0, help="sluice slurm --max-pins (0: every placement)")
    ap.add_argument("--variants", default="pins,start")
    ap.add_argument("--pin-modes", default="exclude,nodelist")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    port = 20000 + (os.getpid() % 100) * 100  # below Linux's ephemeral ports (32768 and up)
    rows = []
    csv_path = os.path.join(args.out, "rounds.csv")
    with Cluster(args.nodes, port, prefix="sluice-slurm-latency-") as cluster:
        env = cluster.env
        endpoint = f"tcp://127.0.0.1:{port + 99}"
        ready = os.path.join(cluster.work, "ready")
        serve = subprocess.Popen([args.sluice, "serve", "--endpoint", endpoint, "--workers", "1", "--ready-file",
                                  ready], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if os.path.exists(ready):
                    break
                time.sleep(0.1)
            variants = args.variants.split(",")
            modes = args.pin_modes.split(",")
            # Every pins round before the first start round: only then do the pins rounds
            # see no cancelled jobs' records.
            for variant in variants:
                for rep in range(args.reps):
                    # Alternate which pin mode goes first, so neither always follows the other.
                    for mode in (modes if rep % 2 == 0 else modes[::-1]):
                        rows.append(one_round(cluster, endpoint, variant, mode, rep, args))
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=30)
            quiet(env)
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    lines = [f"{args.jobs} pending jobs, {args.nodes} nodes, {args.reps} rounds per variant, through sluice serve, "
             f"--max-pins {args.max_pins}",
             "variant | pin mode | pinned per round | job records listed p50 | total p50 | total p95 | read p50 | "
             "allocate p50 | apply + read back p50"]
    for variant in variants:
        for mode in modes:
            rs = [r for r in rows if r["variant"] == variant and r["pin_mode"] == mode]
            total = [float(r["total_s"]) for r in rs]
            lines.append(f"{variant} | {mode} | {statistics.median(int(r['pinned']) for r in rs):.0f} | "
                         f"{statistics.median(int(r['listed']) for r in rs):.0f} | "
                         f"{statistics.median(total):.3f} s | {percentile(total, 95):.3f} s | "
                         f"{statistics.median(float(r['read_s']) for r in rs):.3f} s | "
                         f"{statistics.median(float(r['allocate_s']) for r in rs):.3f} s | "
                         f"{statistics.median(float(r['apply_s']) for r in rs):.3f} s")
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    subprocess.run([os.path.join(HERE, "plot_slurm_latency.py"), csv_path, os.path.join(args.out, "rounds.png")],
                   check=True)


if __name__ == "__main__":
    main()
