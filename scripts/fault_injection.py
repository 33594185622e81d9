#!/usr/bin/env python3
"""Kills reelfarm's processes at random and checks that no work is lost.

Each trial renders a sweep (default 300 jobs, test-pattern renderer) with a
coordinator on a durable state folder and several node processes. While it
runs, the coordinator is killed with SIGKILL at random moments and restarted
on the same state, and nodes are killed with SIGKILL and restarted. At the
end the manifest must hold every job exactly once, done, with every file
present and matching its sha256, and no job folder on disk may be missing
from it.

    scripts/fault_injection.py --trials 50
    scripts/fault_injection.py --trials 2 --jobs 60 --kills 3   # quick

Exit status: 0 when every trial passed, 1 otherwise.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Cluster:
    """The processes of one trial, with their logs in the trial folder."""

    def __init__(self, binary, workdir, nodes, lease_ttl, extra_server_args):
        self.binary = binary
        self.workdir = workdir
        self.address = "127.0.0.1:%d" % free_port()
        self.lease_ttl = lease_ttl
        self.extra_server_args = extra_server_args
        self.coordinator = None
        self.nodes = [None] * nodes
        self.node_starts = [0] * nodes
        self.coordinator_starts = 0
        self.logs = []

    def _spawn(self, args, log_name):
        log = open(os.path.join(self.workdir, log_name), "ab")
        self.logs.append(log)
        return subprocess.Popen([self.binary] + args, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)

    def start_coordinator(self):
        self.coordinator_starts += 1
        self.coordinator = self._spawn(
            ["coordinator", "--listen", self.address, "--state-dir",
             os.path.join(self.workdir, "state"), "--lease-ttl",
             str(self.lease_ttl)] + self.extra_server_args,
            "coordinator.log")

    def start_node(self, i):
        self.node_starts[i] += 1
        self.nodes[i] = self._spawn(
            ["node", "--coordinator", self.address, "--devices", "cpu",
             "--lanes", "2", "--node-id", "node-%d" % i],
            "node-%d.log" % i)

    def kill_coordinator(self):
        self.coordinator.send_signal(signal.SIGKILL)
        self.coordinator.wait()

    def kill_node(self, i):
        self.nodes[i].send_signal(signal.SIGKILL)
        self.nodes[i].wait()

    def client(self, args, timeout=30):
        return subprocess.run([self.binary] + args +
                              ["--coordinator", self.address],
                              capture_output=True, text=True, timeout=timeout)

    def stop(self):
        # Nodes first: a draining node reports its last results to a
        # coordinator that is still there.
        for group in ([p for p in self.nodes if p is not None],
                      [self.coordinator] if self.coordinator else []):
            for p in group:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in group:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for log in self.logs:
            log.close()


def write_sweep(path, jobs, ms_per_job):
    prompts = max(1, jobs // 20)
    seeds = jobs // prompts
    with open(path, "w") as f:
        f.write("name: fault-injection\n")
        f.write("output: out\n")
        f.write("formats: [frames]\n")
        f.write("renderer: {name: test-pattern, ms_per_job: %d}\n" % ms_per_job)
        f.write("defaults: {W: 16, H: 16, L: 2, steps: 1, guidance_scale: 7.5}\n")
        f.write("grid:\n")
        f.write("  prompt: [%s]\n" %
                ", ".join("prompt number %d" % i for i in range(prompts)))
        f.write("  seed: {range: [0, %d]}\n" % seeds)
    return prompts * seeds


def retry(fn, deadline, what):
    """Calls fn until it returns a true value or the deadline passes."""
    while time.monotonic() < deadline:
        result = fn()
        if result:
            return result
        time.sleep(0.1)  # polling a restarting process, not synchronizing
    raise RuntimeError("timed out: " + what)


def check_manifest(out_dir, expected_jobs):
    with open(os.path.join(out_dir, "manifest.json")) as f:
        manifest = json.load(f)
    problems = []
    jobs = manifest["jobs"]
    ids = [j["id"] for j in jobs]
    if len(jobs) != expected_jobs:
        problems.append("%d jobs in the manifest, %d expected" %
                        (len(jobs), expected_jobs))
    if len(set(ids)) != len(ids):
        problems.append("a job appears twice")
    folders = set()
    for j in jobs:
        if j["status"] != "done":
            problems.append("job %s is %s" % (j["id"], j["status"]))
        for f in j.get("files", []):
            path = os.path.join(out_dir, f["path"])
            folders.add(f["path"].split("/")[0])
            if not os.path.exists(path):
                problems.append("missing " + f["path"])
            elif sha256(path) != f["sha256"]:
                problems.append("sha256 mismatch " + f["path"])
    on_disk = {d for d in os.listdir(out_dir)
               if os.path.isdir(os.path.join(out_dir, d))
               and not d.startswith(".")}
    for d in sorted(on_disk - folders):
        problems.append("job folder not in the manifest: " + d)
    return problems


def run_trial(args, trial, rng, extra_server_args):
    workdir = os.path.join(args.workdir, "trial-%03d" % trial)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    sweep = os.path.join(workdir, "sweep.yaml")
    out_dir = os.path.join(workdir, "out")
    total = write_sweep(sweep, args.jobs, args.ms_per_job)
    cluster = Cluster(args.binary, workdir, args.nodes, args.lease_ttl,
                      extra_server_args)
    started = time.monotonic()
    deadline = started + args.trial_timeout
    coordinator_kills = node_kills = 0
    try:
        cluster.start_coordinator()
        for i in range(args.nodes):
            cluster.start_node(i)

        def submit():
            r = cluster.client(["submit", sweep, "--out", out_dir])
            if r.returncode == 2:
                raise RuntimeError("submit refused the sweep: " + r.stderr)
            return r.stdout.strip() if r.returncode == 0 else None

        sweep_id = retry(submit, deadline, "submit")

        def state():
            r = cluster.client(["status"])
            for line in r.stdout.splitlines():
                if line.startswith(sweep_id):
                    return line.split()[1]
            return None

        for _ in range(args.kills):
            time.sleep(rng.uniform(0.05, args.max_gap))  # a random moment
            if state() == "done":
                break
            if rng.random() < 0.5:
                cluster.kill_coordinator()
                coordinator_kills += 1
                time.sleep(rng.uniform(0, 0.5))  # down for a random while
                cluster.start_coordinator()
            else:
                i = rng.randrange(args.nodes)
                cluster.kill_node(i)
                node_kills += 1
                cluster.start_node(i)
        retry(lambda: state() in ("done", "failed", "cancelled"), deadline,
              "the sweep to finish")
        final = state()
    finally:
        cluster.stop()
    problems = [] if final == "done" else ["the sweep ended " + str(final)]
    problems += check_manifest(out_dir, total)
    seconds = time.monotonic() - started
    print("trial %3d: %s  %d jobs, coordinator killed %d times, nodes %d "
          "times, %.1f s%s" %
          (trial, "ok  " if not problems else "FAIL", total, coordinator_kills,
           node_kills, seconds,
           "" if not problems else "\n    " + "\n    ".join(problems[:10])),
          flush=True)
    if not problems and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return not problems, coordinator_kills, node_kills, seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary",
                   default=os.path.join(ROOT, "build", "cli", "reelfarm"))
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--jobs", type=int, default=300)
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--kills", type=int, default=6,
                   help="kills per trial (coordinator or a node, at random)")
    p.add_argument("--max-gap", type=float, default=0.6,
                   help="most seconds between kills")
    p.add_argument("--ms-per-job", type=int, default=40)
    p.add_argument("--lease-ttl", type=float, default=2.0)
    p.add_argument("--trial-timeout", type=float, default=300)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workdir", default=None)
    p.add_argument("--keep", action="store_true",
                   help="keep the folders of passing trials too")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    if args.workdir is None:
        args.workdir = tempfile.mkdtemp(prefix="reelfarm-faults-")
    help_text = subprocess.run([args.binary, "coordinator", "--help"],
                               capture_output=True, text=True).stdout
    extra_server_args = ["--insecure"] if "--insecure" in help_text else []
    print("fault injection: %d trial(s), seed %d, in %s" %
          (args.trials, seed, args.workdir), flush=True)
    passed = 0
    totals = [0, 0, 0.0]
    for trial in range(args.trials):
        ok, ck, nk, secs = run_trial(args, trial, rng, extra_server_args)
        passed += ok
        totals[0] += ck
        totals[1] += nk
        totals[2] += secs
    print("%d/%d trials passed; %d coordinator kills, %d node kills, %.0f s" %
          (passed, args.trials, totals[0], totals[1], totals[2]), flush=True)
    if passed == args.trials and not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    return 0 if passed == args.trials else 1


if __name__ == "__main__":
    sys.exit(main())
