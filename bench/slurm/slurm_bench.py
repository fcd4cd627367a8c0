"""What the Slurm benchmarks (bench/slurm_compare.py, bench/slurm_latency.py) share: running
Slurm's commands, and a fresh local cluster (scripts/slurm-cluster.sh) for one run."""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER_SCRIPT = os.path.join(ROOT, "scripts/slurm-cluster.sh")


def sh(argv, env, check=True, **kw):
    """Runs a command; on failure (check) exits with its stderr."""
    p = subprocess.run(argv, env=env, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(argv)}\n{p.stderr}")
    return p


class Cluster:
    """A local Slurm in a temporary folder: `with Cluster(nodes, port[, shapes]) as c:` gives
    c.env (SLURM_CONF set) and c.work (a folder for the run's files), and stops it after."""

    def __init__(self, nodes, port, shapes=None, prefix="sluice-slurm-bench-"):
        self.nodes, self.port, self.shapes = nodes, port, shapes
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.dir = os.path.join(self.work, "cluster")
        self.env = dict(os.environ, SLURM_CONF=os.path.join(self.dir, "slurm.conf"))

    def __enter__(self):
        argv = [CLUSTER_SCRIPT, "start", self.dir, str(self.nodes), str(self.port)]
        if self.shapes:
            argv.append(self.shapes)
        p = sh(argv, self.env, check=False)
        if p.returncode != 0:
            self.__exit__(None, None, None)  # what did start, stops
            sys.exit(f"the cluster did not start: {p.stderr}")
        return self

    def __exit__(self, *exc):
        sh(["scancel", "--user", str(os.getuid()), "--full"], self.env, check=False)
        sh([CLUSTER_SCRIPT, "stop", self.dir], self.env, check=False)
        shutil.rmtree(self.work, ignore_errors=True)
        return False
