#!/usr/bin/python3
"""Plots sluice_bench_service's CSV: where the end-to-end time of one allocate request goes.

usage: plot_service.py SERVICE.csv OUT.png

One stacked bar per (case, body format), medians over the repetitions: the allocation itself
(the service's allocate(): validate, build, solve, repair, extract) and the protocol's
parts (client encode, service decode, transfer and reply, client decode). The label on top
is the protocol's share of the end-to-end time.
"""
import csv
import statistics
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PARTS = [("allocate_s", "allocation (validate, build, solve, repair, extract)", "tab:green"),
         ("client_encode_s", "client encode", "tab:blue"),
         ("service_decode_s", "service decode", "tab:orange"),
         ("transfer_and_reply_s", "transfer, queue, reply encode", "tab:red"),
         ("client_decode_s", "client decode", "tab:purple")]


def main(src, out):
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    groups = OrderedDict()
    for r in rows:
        groups.setdefault((r["case"], r["format"]), []).append(r)
    cases = list(OrderedDict((case, None) for case, _ in groups))
    fig, axes = plt.subplots(1, len(cases), figsize=(3.2 * len(cases) + 1, 4.8), squeeze=False)
    for ax, case in zip(axes[0], cases):
        formats = [fmt for c, fmt in groups if c == case]
        medians = [{k: statistics.median(float(r[k]) for r in groups[(case, fmt)])
                    for k in [p[0] for p in PARTS] + ["end_to_end_s"]} for fmt in formats]
        bottoms = [0.0] * len(formats)
        for key, name, colour in PARTS:
            values = [max(0.0, m[key]) for m in medians]
            ax.bar(range(len(formats)), values, bottom=bottoms, label=name, color=colour)
            bottoms = [b + v for b, v in zip(bottoms, values)]
        for i, m in enumerate(medians):
            share = 100 * (m["end_to_end_s"] - m["allocate_s"]) / m["end_to_end_s"]
            ax.annotate(f"{m['end_to_end_s']:.3g} s\nprotocol {share:.0f}%", (i, bottoms[i]), ha="center",
                        va="bottom", fontsize=8)
        ax.set_xticks(range(len(formats)), formats)
        ax.set_ylim(0, max(bottoms) * 1.25)
        ax.set_title(case, fontsize=9)
        ax.set_ylabel("seconds (median)")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=8)
    fig.suptitle("One allocate request over loopback: the allocation vs the protocol (medians of each part)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
