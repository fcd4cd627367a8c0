#!/usr/bin/python3
"""Plots sluice_bench_load's CSV: throughput and latency against the number of masters.

usage: plot_load.py LOAD.csv OUT.png
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, out):
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    masters = [int(r["masters"]) for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    a.bar([str(m) for m in masters], [float(r["requests_per_s"]) for r in rows], color="tab:blue")
    for i, r in enumerate(rows):
        a.annotate(f"{float(r['requests_per_s']):.0f}/s\n{r['lost']} lost, {r['duplicates']} dup",
                   (i, float(r["requests_per_s"])), ha="center", va="bottom", fontsize=8)
    a.set_xlabel("masters (one request in flight each)")
    a.set_ylabel("allocations per second")
    a.set_title("Sustained throughput")
    b.plot(masters, [float(r["p50_s"]) * 1000 for r in rows], "o-", label="p50")
    b.plot(masters, [float(r["p99_s"]) * 1000 for r in rows], "s-", label="p99")
    b.set_xscale("log", base=2)
    b.set_xticks(masters, [str(m) for m in masters])
    b.set_xlabel("masters")
    b.set_ylabel("round trip (ms)")
    b.set_title("Latency")
    b.grid(alpha=0.3)
    b.legend()
    peak = ", ".join(f"{m}: {float(r['peak_rss_mib']):.0f} MiB" for m, r in zip(masters, rows))
    fig.suptitle(f"sluice serve under load (service peak memory {peak})")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
