#!/usr/bin/python3
"""What a message still arriving makes `sluice serve` hold, with the receive guard at a
given --max-memory and, for comparison, with a limit above the message (the guard never
acts): one sender pushes a multipart message of FRAMES frames of 16 MiB (a valid envelope
frame first), and the service's peak resident memory (VmHWM) is read after the sender is
cut off or done. Then a health request checks the service still serves.

  bench/receive_guard.py --sluice build/main/bin/sluice --out DIR [--frames 64] [--limits-mib 256,320,512] [--reps 3]

Writes DIR/guard.csv (one row per run) and DIR/guard.png (peak against the limit).
"""
import csv
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import matplotlib
import zmq

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ENVELOPE_BYTES = 32


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return -1


def run_once(sluice, max_memory, frames):
    log = tempfile.NamedTemporaryFile(prefix="sluice-guard-", suffix=".log", delete=False)
    ready = log.name + ".ready"
    svc = subprocess.Popen([sluice, "serve", "--endpoint", "tcp://127.0.0.1:*", "--workers", "1",
                            "--max-memory", str(max_memory), "--ready-file", ready],
                           stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(500):
            if os.path.exists(ready) and os.path.getsize(ready) > 0:
                break
            time.sleep(0.01)
        with open(ready) as f:
            endpoint = f.readline().strip()
        start_kib = status_kib(svc.pid, "VmRSS:")
        ctx = zmq.Context()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RECONNECT_IVL, -1)
        s.connect(endpoint)
        frame = b"x" * (16 << 20)
        s.send(b"\0" * ENVELOPE_BYTES, zmq.SNDMORE)
        for i in range(frames):
            flags = zmq.SNDMORE if i + 1 < frames else 0
            try:
                s.send(frame, flags | zmq.NOBLOCK)
            except zmq.Again:
                time.sleep(0.05)
                try:
                    s.send(frame, flags | zmq.NOBLOCK)
                except zmq.Again:
                    break
        cut = False
        for _ in range(200):
            with open(log.name) as f:
                text = f.read()
            if "connection_dropped_for_memory" in text or "too-large" in text or "frames" in text:
                cut = "connection_dropped_for_memory" in text
                break
            time.sleep(0.025)
        time.sleep(0.3)
        peak_kib = status_kib(svc.pid, "VmHWM:")
        s.close()
        probe = ctx.socket(zmq.DEALER)
        probe.setsockopt(zmq.LINGER, 0)
        probe.connect(endpoint)
        alive = subprocess.run([sluice, "submit", "--health", "--endpoint", endpoint, "--timeout-ms", "5000"],
                               capture_output=True, text=True).returncode == 0
        probe.close()
        ctx.term()
        return start_kib / 1024, peak_kib / 1024, cut, alive
    finally:
        svc.terminate()
        svc.wait(timeout=30)
        for p in (log.name, ready):
            if os.path.exists(p):
                os.unlink(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--limits-mib", default="256,320,512")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    message_mib = args.frames * 16
    limits = [int(x) for x in args.limits_mib.split(",")] + [8 * message_mib]  # the last: never acts
    print(f"message: {args.frames} frames of 16 MiB = {message_mib} MiB")
    print(f"{'max-memory MiB':>14s} {'rep':>3s} {'start MiB':>9s} {'peak MiB':>8s} {'cut':>5s} {'serves':>6s}")
    peaks = {}
    for rep in range(1, args.reps + 1):
        for limit in limits:
            start, peak, cut, alive = run_once(args.sluice, limit << 20, args.frames)
            peaks.setdefault(limit, []).append(peak)
            rows.append({"max_memory_mib": limit, "rep": rep, "start_mib": round(start), "peak_mib": round(peak),
                         "cut": cut, "serves_after": alive})
            print(f"{limit:14d} {rep:3d} {start:9.0f} {peak:8.0f} {str(cut):>5s} {str(alive):>6s}", flush=True)
    print("median peak resident memory per --max-memory (MiB):")
    for limit in limits:
        note = " (above the message: the guard never acts)" if limit == limits[-1] else ""
        print(f"  {limit:6d}: {statistics.median(peaks[limit]):6.0f}{note}")
    with open(os.path.join(args.out, "guard.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    labels = [f"{x} MiB" for x in limits[:-1]] + ["guard off\n(limit above\nthe message)"]
    medians = [statistics.median(peaks[x]) for x in limits]
    bars = ax.bar(range(len(limits)), medians, color=["tab:blue"] * (len(limits) - 1) + ["tab:gray"])
    for i, x in enumerate(limits[:-1]):
        ax.hlines(x, i - 0.4, i + 0.4, colors="black", linestyles="dashed", label="--max-memory" if i == 0 else None)
    for b, v in zip(bars, medians):
        ax.text(b.get_x() + b.get_width() / 2, v + 10, f"{v:.0f}", ha="center", fontsize=8)
    ax.set_xticks(range(len(limits)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlabel("--max-memory")
    ax.set_ylabel("service peak resident memory (MiB, median)")
    ax.set_title(f"sluice serve receiving one {message_mib} MiB message ({args.frames} frames)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "guard.png"), dpi=110)
    print("plot:", os.path.join(args.out, "guard.png"))


if __name__ == "__main__":
    sys.exit(main())
