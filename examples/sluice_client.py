#!/usr/bin/python3
"""A Sluice client in Python: what a master written in another language needs.

Speaks the protocol of docs/protocol.md over ZeroMQ (python3-zmq) in both body formats:
JSON (the snapshot as a dict, as in examples/snapshot.json) and cereal portable binary
(encoded here by hand, to show the format is language-neutral).

    python3 examples/sluice_client.py --snapshot examples/snapshot.json --cost-model fgd
    python3 examples/sluice_client.py --health --format binary

As a library:

    client = Client("tcp://127.0.0.1:7600", fmt="json")
    reply = client.allocate(snapshot_dict, {"cost_model": "fgd"}, epoch=1)
    for p in reply["placements"]: print(p["task"], "->", p["machine"], p["gpus"])
"""
import argparse
import json
import random
import struct
import sys
import time

import zmq

MAGIC = b"SLCE"
VERSION = 2  # docs/protocol.md, "Versions": 2 adds the re-solve counts and options
ENVELOPE = struct.Struct("<4sHBBQQqHHIQ")  # 48 bytes, docs/protocol.md
assert ENVELOPE.size == 48

TYPES = {"allocate": 1, "health": 2, "stats": 3, "allocate-reply": 129, "health-reply": 130,
         "stats-reply": 131, "error": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
FORMATS = {"binary": 0, "json": 1}
CODES = ["ok", "malformed", "invalid-snapshot", "busy", "stale-epoch", "deadline-exceeded",
         "shutting-down", "too-large", "unsupported-version", "solve-failed", "internal", "unauthorized"]


class SluiceError(Exception):
    """An error reply (code is one of CODES) or no reply at all (code 'timeout')."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# ---- cereal portable binary -------------------------------------------------------------

class Writer:
    def __init__(self):
        self.parts = [b"\x01"]  # the writer's endianness: little

    def i32(self, v): self.parts.append(struct.pack("<i", v))
    def i64(self, v): self.parts.append(struct.pack("<q", v))
    def u8(self, v): self.parts.append(struct.pack("<B", v))
    def u64(self, v): self.parts.append(struct.pack("<Q", v))
    def f64(self, v): self.parts.append(struct.pack("<d", v))
    def boolean(self, v): self.u8(1 if v else 0)

    def string(self, s):
        b = s.encode("utf-8")
        self.parts.append(struct.pack("<Q", len(b)))
        self.parts.append(b)

    def length(self, n): self.parts.append(struct.pack("<Q", n))

    def bytes(self): return b"".join(self.parts)


class Reader:
    def __init__(self, data):
        self.data = memoryview(data)
        self.pos = 0
        if len(data) == 0 or data[0] not in (0, 1):
            raise SluiceError("malformed", "not a portable binary body")
        self.little = data[0] == 1
        self.pos = 1

    def _take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise SluiceError("malformed", f"body ends early at byte {self.pos}")
        v = struct.unpack(("<" if self.little else ">") + fmt, self.data[self.pos:self.pos + size])[0]
        self.pos += size
        return v

    def i32(self): return self._take("i")
    def i64(self): return self._take("q")
    def u64(self): return self._take("Q")
    def f64(self): return self._take("d")
    def boolean(self): return self._take("B") == 1

    def length(self, min_bytes=1):
        n = self.u64()
        if n * min_bytes > len(self.data) - self.pos:  # never trust a length prefix
            raise SluiceError("malformed", f"length {n} exceeds the bytes that remain")
        return n

    def string(self):
        n = self.length()
        s = bytes(self.data[self.pos:self.pos + n]).decode("utf-8", "replace")
        self.pos += n
        return s


def encode_snapshot_binary(s):
    """A snapshot dict (the JSON schema of docs/snapshot.md) as cereal portable binary."""
    w = Writer()
    w.i32(1)
    w.i64(s["version"])
    w.i64(s["time"])

    def str_map(m, value):
        w.length(len(m))
        for k in sorted(m):
            w.string(k)
            value(m[k])

    def prefs(lst):
        w.length(len(lst))
        for p in lst:
            w.string(p["target"])
            w.i64(p["weight"])

    w.length(len(s["machines"]))
    for m in s["machines"]:
        w.string(m["id"]); w.string(m["rack"]); w.string(m["zone"])
        for k in ("cpu_milli", "memory_mib", "free_cpu_milli", "free_memory_mib"):
            w.i64(m[k])
        w.length(len(m["gpus"]))
        for g in m["gpus"]:
            w.i32(g["index"]); w.string(g["model"]); w.i32(g["free_milli"])
        str_map(m["extra_capacity"], w.i64)
        str_map(m["extra_free"], w.i64)
        str_map(m["labels"], w.string)
    w.length(len(s["jobs"]))
    for j in s["jobs"]:
        w.string(j["id"]); w.i32(j["priority"]); w.i64(j["submit_time"])
        w.length(len(j["tasks"]))
        for t in j["tasks"]:
            w.string(t["id"]); w.i64(t["cpu_milli"]); w.i64(t["memory_mib"])
            w.i32(t["gpus"]); w.i32(t["gpu_milli"])
            w.length(len(t["gpu_models"]))
            for model in t["gpu_models"]:
                w.string(model)
            str_map(t["extra"], w.i64)
            str_map(t["selector"], w.string)
            prefs(t["preferred_machines"])
            prefs(t["preferred_racks"])
            w.u8(1 if t["state"] == "running" else 0)
            w.string(t["machine"])
            w.length(len(t["gpu_indexes"]))
            for i in t["gpu_indexes"]:
                w.i32(i)
    return w.bytes()


OPTION_DEFAULTS = {"cost_model": "spread", "solver": "auto", "verify": False, "aggregate": True,
                   "allow_migration": True, "allow_preemption": True, "migration_cost": 300,
                   "deadline_ms": 0, "candidate_slack": 2.0, "max_resolves": 32,
                   "new_tasks_per_machine": 0, "tie_seed": 0, "workload": ""}


def encode_options_binary(options):
    o = dict(OPTION_DEFAULTS, **options)
    w = Writer()
    w.string(o["cost_model"]); w.string(o["solver"])
    for k in ("verify", "aggregate", "allow_migration", "allow_preemption"):
        w.boolean(o[k])
    w.i64(o["migration_cost"]); w.i64(o["deadline_ms"])
    # version 2
    w.f64(o["candidate_slack"]); w.i32(o["max_resolves"]); w.i32(o["new_tasks_per_machine"])
    w.u64(o["tie_seed"]); w.string(o["workload"])
    return w.bytes()


def _read_allocation(r):
    """The binary allocation's fields and lists, from a Reader (docs/protocol.md)."""
    a = {"status": r.string(), "message": r.string(), "snapshot_version": r.i64(),
         "cost_model": r.string(), "backend": r.string(), "algorithm": r.string(),
         "fell_back": r.boolean(), "fallback_reason": r.string(), "objective": r.i64()}
    a["timings_s"] = {k: r.f64() for k in ("decode", "validate", "build", "solve", "repair",
                                          "extract", "total")}
    a["network"] = {k: r.i64() for k in ("pending_tasks", "running_tasks", "shapes", "running_groups",
                                        "machine_classes", "nodes", "arcs", "cost_evaluations",
                                        "repaired", "resolves", "placed_by_flow", "placed_by_resolve",
                                        "placed_by_fallback")}
    if r.boolean():
        feasible, slack, equal = r.boolean(), r.boolean(), r.boolean()
        r.string(); r.string()  # primal and dual cost
        a["certificate"] = {"valid": feasible and slack and equal, "message": r.string()}

    def gpus():
        return [r.i32() for _ in range(r.length(4))]

    def records(min_bytes, read):
        return [read() for _ in range(r.length(min_bytes))]

    placement = lambda: {"job": r.string(), "task": r.string(), "machine": r.string(), "gpus": gpus()}
    a["placements"] = records(32, placement)
    a["kept"] = records(32, placement)
    a["migrations"] = records(40, lambda: {"job": r.string(), "task": r.string(), "from": r.string(),
                                           "machine": r.string(), "gpus": gpus()})
    a["preemptions"] = records(32, lambda: {"job": r.string(), "task": r.string(),
                                            "machine": r.string(), "reason": r.string()})
    a["unscheduled"] = records(32, lambda: {"job": r.string(), "task": r.string(),
                                            "reason": r.string(), "message": r.string()})
    return a


def _counts(a):
    a["counts"] = {"placed": len(a["placements"]), "kept": len(a["kept"]),
                   "migrated": len(a["migrations"]), "preempted": len(a["preemptions"]),
                   "unscheduled": len(a["unscheduled"])}
    return a


def decode_allocation_binary(data):
    """The binary allocation as the same dict the JSON reply gives."""
    r = Reader(data)
    a = _read_allocation(r)
    if r.pos != len(r.data):
        raise SluiceError("malformed", f"{len(r.data) - r.pos} bytes left over")
    return _counts(a)


REASONS = ["no-machine-with-resource", "constraint-unsatisfiable", "no-free-capacity", "outbid-by-priority"]


def decode_indexed_allocation_binary(data, snapshot):
    """An indexed reply (envelope flag 1): positions in `snapshot` (the dict that was sent)
    turned back into the same dict the ids reply gives."""
    r = Reader(data)
    a = _read_allocation(r)
    if any(a[k] for k in ("placements", "kept", "migrations", "preemptions", "unscheduled")):
        raise SluiceError("malformed", "an indexed reply's lists come as columns")
    fmt = "<" if r.little else ">"

    def column(code, n):
        size = struct.calcsize(code) * n
        if r.pos + size > len(r.data):
            raise SluiceError("malformed", f"column ends early at byte {r.pos}")
        values = struct.unpack(f"{fmt}{n}{code}", r.data[r.pos:r.pos + size])
        r.pos += size
        return list(values)

    def placements():
        n = r.length(12)
        task, machine, begin = column("I", n), column("I", n), column("I", n + 1)
        gpus = column("i", r.length(4))
        if begin[0] != 0 or begin[-1] != len(gpus) or any(b > e for b, e in zip(begin, begin[1:])):
            raise SluiceError("malformed", "gpu_begin does not run from 0 to the GPU indexes")
        return [(task[i], machine[i], gpus[begin[i]:begin[i + 1]]) for i in range(n)]

    placed, kept, moved = placements(), placements(), placements()
    moved_from = column("I", len(moved))
    n = r.length(12)
    preempted = list(zip(column("I", n), column("I", n), column("I", n)))
    n = r.length(9)
    unscheduled = list(zip(column("I", n), column("B", n), column("I", n)))
    messages = [r.string() for _ in range(r.length(8))]
    if r.pos != len(r.data):
        raise SluiceError("malformed", f"{len(r.data) - r.pos} bytes left over")

    tasks = [(job["id"], task["id"]) for job in snapshot["jobs"] for task in job["tasks"]]
    machines = [m["id"] for m in snapshot["machines"]]

    def at(table, i, what):
        if i >= len(table):
            raise SluiceError("malformed", f"{what} {i} is beyond the {len(table)} there are")
        return table[i]

    def placement(t, m, g):
        job, task = at(tasks, t, "task position")
        return {"job": job, "task": task, "machine": at(machines, m, "machine position"), "gpus": g}

    a["placements"] = [placement(*p) for p in placed]
    a["kept"] = [placement(*p) for p in kept]
    a["migrations"] = [dict(placement(*p), **{"from": at(machines, f, "machine position")})
                       for p, f in zip(moved, moved_from)]
    a["preemptions"] = [{"job": at(tasks, t, "task position")[0], "task": at(tasks, t, "task position")[1],
                         "machine": at(machines, m, "machine position"), "reason": at(messages, why, "message")}
                        for t, m, why in preempted]
    a["unscheduled"] = [{"job": at(tasks, t, "task position")[0], "task": at(tasks, t, "task position")[1],
                         "reason": at(REASONS, code, "reason code"), "message": at(messages, msg, "message")}
                        for t, code, msg in unscheduled]
    return _counts(a)


def decode_health_binary(data):
    r = Reader(data)
    h = {"state": r.string(), "version": r.string(), "uptime_s": r.f64(), "workers": r.i32(),
         "queue_depth": r.i64(), "queue_capacity": r.i64(), "in_flight": r.i64(),
         "highest_epoch": r.u64(), "gpu": r.string()}
    return h


STATS_COUNTERS = ("received", "replied", "allocations", "cache_hits", "joined_in_flight", "busy",
                  "malformed", "invalid", "stale_epoch", "deadline_exceeded", "too_large", "failed",
                  "shutting_down", "bytes_in", "bytes_out")


def decode_stats_binary(data):
    r = Reader(data)
    s = {k: r.u64() for k in STATS_COUNTERS}
    s["solve_seconds_total"] = r.f64()
    s["decode_seconds_total"] = r.f64()
    s["denied"] = r.u64()
    s["replies_dropped"] = r.u64()
    return s


# ---- the client ------------------------------------------------------------------------

class Client:
    """One DEALER socket; lazy-pirate retries resend the same request id."""

    def __init__(self, endpoint="tcp://127.0.0.1:7600", fmt="json", timeout_ms=60000, attempts=3,
                 server_key=None, client_secret=None):
        """server_key, client_secret: Z85 CurveZMQ keys, for a service started with --curve-secret."""
        if fmt not in FORMATS:
            raise ValueError("fmt must be 'json' or 'binary'")
        self.endpoint, self.fmt, self.timeout_ms, self.attempts = endpoint, fmt, timeout_ms, attempts
        self.server_key, self.client_secret = server_key, client_secret
        self.context = zmq.Context.instance()
        self.socket = None
        self.last_envelope = None  # the last reply's envelope, as a dict

    def _connect(self):
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        if self.server_key:
            self.socket.curve_serverkey = self.server_key.encode()
            self.socket.curve_secretkey = self.client_secret.encode()
            self.socket.curve_publickey = zmq.curve_public(self.client_secret.encode())
        self.socket.connect(self.endpoint)

    def close(self):
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def call(self, kind, body_frames=(), request_id=None, epoch=0, snapshot_version=0, flags=0):
        """Sends one request; returns (envelope dict, body bytes) of the reply to it."""
        request_id = request_id or random.getrandbits(64) or 1
        body_frames = list(body_frames)
        envelope = ENVELOPE.pack(MAGIC, VERSION, TYPES[kind], FORMATS[self.fmt], request_id, epoch,
                                 snapshot_version, 0, 0, flags, sum(len(b) for b in body_frames))
        for _ in range(max(1, self.attempts)):
            if self.socket is None:
                self._connect()
            self.socket.send_multipart([envelope] + body_frames)
            deadline = time.monotonic() + self.timeout_ms / 1000
            while (left := deadline - time.monotonic()) > 0:
                if not self.socket.poll(int(left * 1000) + 1):
                    continue
                frames = self.socket.recv_multipart()
                if frames and frames[0] == b"":  # a REQ-style delimiter
                    frames = frames[1:]
                magic, version, mtype, fmt, rid, rep, sver, code, _, rflags, nbody = ENVELOPE.unpack(frames[0])
                if magic != MAGIC:
                    raise SluiceError("malformed", "the reply's magic is wrong")
                if rid != request_id:
                    continue  # a late reply to an earlier request
                body = b"".join(frames[1:])
                if nbody != len(body):
                    raise SluiceError("malformed", "the reply's body length does not match")
                self.last_envelope = {"type": TYPE_NAMES.get(mtype, mtype), "request_id": rid, "epoch": rep,
                                      "snapshot_version": sver, "code": CODES[code], "format": fmt,
                                      "flags": rflags}
                if code != 0:
                    raise SluiceError(CODES[code], body.decode("utf-8", "replace"))
                return self.last_envelope, body
            self.close()  # silence: a fresh socket, the same request id
        raise SluiceError("timeout", f"no reply from {self.endpoint} after {self.attempts} attempt(s)")

    def allocate(self, snapshot, options=None, request_id=None, epoch=0, indexed=False):
        """snapshot: a dict in the JSON schema (docs/snapshot.md). Returns the allocation dict.
        indexed (binary only): the service names tasks and machines by position (a fraction
        of the bytes); the ids are filled in here from `snapshot`."""
        options = options or {}
        if indexed and self.fmt != "binary":
            raise ValueError("indexed replies need the binary format")
        if self.fmt == "json":
            frames = [json.dumps(options).encode(), json.dumps(snapshot).encode()]
        else:
            frames = [encode_options_binary(options), encode_snapshot_binary(snapshot)]
        envelope, body = self.call("allocate", frames, request_id, epoch, snapshot["version"], 1 if indexed else 0)
        if indexed:
            if not envelope["flags"] & 1:
                raise SluiceError("malformed", "asked for an indexed reply, got ids")
            return decode_indexed_allocation_binary(body, snapshot)
        return json.loads(body) if self.fmt == "json" else decode_allocation_binary(body)

    def health(self):
        _, body = self.call("health")
        return json.loads(body) if self.fmt == "json" else decode_health_binary(body)

    def stats(self):
        _, body = self.call("stats")
        return json.loads(body) if self.fmt == "json" else decode_stats_binary(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default="tcp://127.0.0.1:7600")
    ap.add_argument("--format", choices=sorted(FORMATS), default="json")
    ap.add_argument("--snapshot", help="a snapshot in JSON (examples/snapshot.json)")
    ap.add_argument("--cost-model", default="spread")
    ap.add_argument("--epoch", type=int, default=0)
    ap.add_argument("--request-id", type=int, default=0)
    ap.add_argument("--timeout-ms", type=int, default=60000)
    ap.add_argument("--indexed", action="store_true", help="ask for an indexed reply (binary only)")
    ap.add_argument("--health", action="store_true")
    ap.add_argument("--stats", action="store_true")
    ap.add_argument("--server-key", help="CurveZMQ: the service's public key file (sluice keygen)")
    ap.add_argument("--client-key", help="CurveZMQ: this client's secret key file")
    args = ap.parse_args()

    def key(path):
        with open(path) as f:
            return next(line.strip() for line in f if line.strip() and not line.startswith("#"))

    client = Client(args.endpoint, args.format, args.timeout_ms,
                    server_key=key(args.server_key) if args.server_key else None,
                    client_secret=key(args.client_key) if args.client_key else None)
    try:
        if args.health:
            print(json.dumps(client.health()))
        elif args.stats:
            print(json.dumps(client.stats()))
        elif args.snapshot:
            with open(args.snapshot) as f:
                snapshot = json.load(f)
            a = client.allocate(snapshot, {"cost_model": args.cost_model}, args.request_id or None, args.epoch,
                                indexed=args.indexed)
            print(f"{a['status']}: {a['counts']['placed']} placed, {a['counts']['unscheduled']} unscheduled, "
                  f"objective {a['objective']} ({a['cost_model']}, {a['backend']})")
            for p in a["placements"]:
                print(f"  {p['job']}/{p['task']} -> {p['machine']} gpus {p['gpus']}")
            for u in a["unscheduled"]:
                print(f"  {u['job']}/{u['task']} unscheduled: {u['reason']}: {u['message']}")
        else:
            ap.error("give --snapshot, --health or --stats")
    except SluiceError as e:
        print(f"sluice_client: {e}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
