#!/usr/bin/python3
"""The Python example client (examples/sluice_client.py) against the real service.

Usage (CTest runs it): python_client_test.py SLUICE_BIN REPO_DIR
Every message type in both body formats; error replies; retried ids; stale epochs.
"""
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SLUICE, REPO = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(REPO, "examples"))
import sluice_client  # noqa: E402


class Service:
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="sluice-py-")
        ready = os.path.join(self.dir, "ready")
        self.log = open(os.path.join(self.dir, "serve.log"), "w+")
        self.proc = subprocess.Popen([SLUICE, "serve", "--endpoint", "tcp://127.0.0.1:*", "--ready-file", ready,
                                      "--log-level", "warn", *extra], stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(1500):
            if os.path.exists(ready):
                with open(ready) as f:
                    self.endpoint = f.readline().strip()
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("sluice serve did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return code


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = Service()
        with open(os.path.join(REPO, "examples", "snapshot.json")) as f:
            cls.snapshot = json.load(f)
        # The reference answer: the CLI, in process, on the same file.
        out = subprocess.run([SLUICE, "allocate", os.path.join(REPO, "examples", "snapshot.json"),
                              "--cost-model", "fgd", "-q"], check=True, capture_output=True, text=True)
        cls.reference = json.loads(out.stdout)

    @classmethod
    def tearDownClass(cls):
        code = cls.service.stop()
        if code != 0:
            raise AssertionError(f"sluice serve exited with {code}")

    def client(self, fmt):
        return sluice_client.Client(self.service.endpoint, fmt, timeout_ms=30000)

    def test_allocate_in_both_formats_matches_the_cli(self):
        for fmt in ("json", "binary"):
            with self.subTest(fmt=fmt):
                c = self.client(fmt)
                a = c.allocate(self.snapshot, {"cost_model": "fgd", "verify": True}, epoch=1)
                self.assertEqual(c.last_envelope["type"], "allocate-reply")
                self.assertEqual(c.last_envelope["snapshot_version"], self.snapshot["version"])
                self.assertEqual(a["status"], "optimal")
                self.assertEqual(a["cost_model"], "fgd")
                self.assertEqual(a["objective"], self.reference["objective"])
                self.assertTrue(a["certificate"]["valid"], a["certificate"]["message"])
                key = lambda p: (p["job"], p["task"], p["machine"], tuple(p["gpus"]))
                self.assertEqual(sorted(map(key, a["placements"])), sorted(map(key, self.reference["placements"])))
                self.assertEqual(sorted((u["task"], u["reason"]) for u in a["unscheduled"]),
                                 sorted((u["task"], u["reason"]) for u in self.reference["unscheduled"]))
                # Protocol version 2: who decided each placement, in both formats.
                n = a["network"]
                for k in ("resolves", "placed_by_flow", "placed_by_resolve", "placed_by_fallback"):
                    self.assertEqual(n[k], self.reference["network"][k], k)
                self.assertEqual(n["placed_by_flow"] + n["placed_by_resolve"] + n["placed_by_fallback"],
                                 len(a["placements"]))
                c.close()

    def test_indexed_reply_matches_the_ids_reply(self):
        c = self.client("binary")
        ids = c.allocate(self.snapshot, {"cost_model": "priority"}, epoch=1)
        indexed = c.allocate(self.snapshot, {"cost_model": "priority"}, epoch=1, indexed=True)
        self.assertEqual(c.last_envelope["flags"] & 1, 1)
        for k in ("status", "objective", "counts", "network", "placements", "kept", "migrations", "preemptions",
                  "unscheduled"):
            self.assertEqual(indexed[k], ids[k], k)
        with self.assertRaises(ValueError):
            self.client("json").allocate(self.snapshot, indexed=True)
        c.close()

    def test_health_and_stats_in_both_formats(self):
        for fmt in ("json", "binary"):
            with self.subTest(fmt=fmt):
                c = self.client(fmt)
                h = c.health()
                self.assertEqual(c.last_envelope["type"], "health-reply")
                self.assertEqual(h["state"], "serving")
                self.assertGreaterEqual(h["workers"], 1)
                s = c.stats()
                self.assertEqual(c.last_envelope["type"], "stats-reply")
                self.assertGreaterEqual(s["received"], 1)
                self.assertIn("solve_seconds_total", s)
                c.close()

    def test_invalid_snapshot_is_named(self):
        bad = copy.deepcopy(self.snapshot)
        bad["machines"][1]["id"] = bad["machines"][0]["id"]
        for fmt in ("json", "binary"):
            with self.subTest(fmt=fmt):
                c = self.client(fmt)
                with self.assertRaises(sluice_client.SluiceError) as err:
                    c.allocate(bad, epoch=1)
                self.assertEqual(err.exception.code, "invalid-snapshot")
                self.assertIn("machines[1]", err.exception.message)
                c.close()

    def test_curve_keys(self):
        keys = tempfile.mkdtemp(prefix="sluice-py-keys-")
        for name in ("server", "alice"):
            subprocess.run([SLUICE, "keygen", os.path.join(keys, name)], check=True, capture_output=True)
        with open(os.path.join(keys, "alice.pub")) as f, open(os.path.join(keys, "allowed"), "w") as out:
            out.write(f.read())
        own = Service("--curve-secret", os.path.join(keys, "server.key"), "--allowed-clients",
                      os.path.join(keys, "allowed"))
        read = lambda n: [l.strip() for l in open(os.path.join(keys, n)) if l.strip() and not l.startswith("#")][0]
        c = sluice_client.Client(own.endpoint, "binary", timeout_ms=5000, server_key=read("server.pub"),
                                 client_secret=read("alice.key"))
        self.assertEqual(c.health()["state"], "serving")
        c.close()
        stranger = sluice_client.Client(own.endpoint, "json", timeout_ms=700, attempts=1)
        with self.assertRaises(sluice_client.SluiceError) as err:
            stranger.health()
        self.assertEqual(err.exception.code, "timeout")
        stranger.close()
        self.assertEqual(own.stop(), 0)
        shutil.rmtree(keys, ignore_errors=True)

    def test_unknown_option_is_refused(self):
        c = self.client("json")
        with self.assertRaises(sluice_client.SluiceError) as err:
            c.allocate(self.snapshot, {"cost_modle": "fgd"}, epoch=1)
        self.assertEqual(err.exception.code, "malformed")
        self.assertIn("cost_modle: unknown field", err.exception.message)
        c.close()

    def test_retry_is_served_from_the_cache(self):
        c = self.client("binary")
        before = c.stats()
        first = c.allocate(self.snapshot, {"cost_model": "pack"}, request_id=99001, epoch=1)
        again = c.allocate(self.snapshot, {"cost_model": "pack"}, request_id=99001, epoch=1)
        after = c.stats()
        self.assertEqual(first, again)
        self.assertEqual(after["allocations"] - before["allocations"], 1)
        self.assertEqual(after["cache_hits"] - before["cache_hits"], 1)
        c.close()

    def test_stale_epoch_is_refused(self):
        own = Service()  # epochs are service-wide: keep the shared one at epoch 1
        c = sluice_client.Client(own.endpoint, "json", timeout_ms=30000)
        c.allocate(self.snapshot, epoch=5)
        with self.assertRaises(sluice_client.SluiceError) as err:
            c.allocate(self.snapshot, epoch=4)
        self.assertEqual(err.exception.code, "stale-epoch")
        c.close()
        self.assertEqual(own.stop(), 0)

    def test_the_example_runs_as_a_program(self):
        out = subprocess.run([sys.executable, os.path.join(REPO, "examples", "sluice_client.py"), "--endpoint",
                              self.service.endpoint, "--snapshot", os.path.join(REPO, "examples", "snapshot.json"),
                              "--format", "binary", "--cost-model", "fgd", "--epoch", "1"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f"objective {self.reference['objective']} (fgd", out.stdout)


if __name__ == "__main__":
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    passed = result.testsRun - len(result.failures) - len(result.errors)
    print(f"{passed} passed, {len(result.failures) + len(result.errors)} failed")
    sys.exit(0 if result.wasSuccessful() else 1)
