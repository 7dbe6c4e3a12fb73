#!/usr/bin/env python3
"""postmortem's analysis split over Apache Spark: the map step on the executors, the merge on
the driver.

    python3 postmortem_spark.py --postmortem /path/to/postmortem --root DIR --out REPORT_DIR \
        [--master local[2]] [--partials DIR] [PATH ...] [-- FLAG ...]

1. Lists the inputs (PATHs under --root, default all of --root; folders walked, sorted).
2. On the executors, finds which pods each file holds: kubectl's `--prefix` (`[pod/NAME/C]`)
   on its first lines, else the pod name in the file name (`NAME-<hash>-<id>...`). Files that
   name no pod (Kubernetes objects, metric dumps, rules) are a shard per folder.
3. On the driver, joins files that share a pod into one shard (postmortem finds repeats
   between exports and failures per pod, so all of a pod's logs must be read together), in
   the order of their first file.
4. On the executors, one task per shard: `postmortem analyze SHARD... --partial` (run in
   --root, so inputs keep the names one analyze over them would give); each task returns its
   partial's bytes, which the driver writes into --partials.
5. On the driver: `postmortem merge PARTIAL... --out REPORT_DIR`, with the same FLAGs.

The report is the one `postmortem analyze` over all the inputs, in the shards' order, writes
(`shards.json` in --partials lists them). The executors need the postmortem binary and the
inputs at the same paths (local mode; on a cluster: a shared volume, or a step that copies
each shard's files from object storage before the map).
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys

PREFIX = re.compile(rb"^\[pod/([^/\]\s]+)/")
# A Deployment's pod in a log file's name: NAME-<pod-template hash, with a digit>-<5 characters>.
POD_IN_NAME = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?-(?=[a-z]*[0-9])[a-z0-9]{6,10}-[a-z0-9]{5})(?![a-z0-9])"
)
LOG_NAME = re.compile(r"\.log(\.gz)?$")
SNIFF_LINES = 2000


def list_inputs(root, paths):
    """Every file under the given paths (relative to root), folders walked in sorted order."""
    out = []
    for p in paths or ["."]:
        full = os.path.join(root, p)
        if os.path.isdir(full):
            for d, dirs, files in os.walk(full):
                dirs.sort()
                for f in sorted(files):
                    out.append(os.path.normpath(os.path.relpath(os.path.join(d, f), root)))
        else:
            out.append(os.path.normpath(p))
    return out


def pods_of(root, rel):
    """The pods a file's logs are of: from kubectl's --prefix, else from its name."""
    full = os.path.join(root, rel)
    pods = set()
    try:
        opener = gzip.open if rel.endswith(".gz") else open
        with opener(full, "rb") as f:
            for i, line in enumerate(f):
                if i >= SNIFF_LINES:
                    break
                m = PREFIX.match(line)
                if m:
                    pods.add(m.group(1).decode("utf-8", "replace"))
    except (OSError, EOFError):
        pass
    if not pods and LOG_NAME.search(rel):
        m = POD_IN_NAME.search(os.path.basename(rel))
        if m:
            pods.add(m.group(1))
    return sorted(pods)


def plan_shards(files_pods):
    """Files sharing a pod in one shard (union-find over pods); files naming no pod, one
    shard per folder. Shards in the order of their first file, files in input order."""
    order = {f: i for i, (f, _) in enumerate(files_pods)}
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for f, pods in files_pods:
        key = ("file", f)
        find(key)
        for p in pods:
            parent[find(key)] = find(("pod", p))
        if not pods:
            parent[find(key)] = find(("dir", os.path.dirname(f)))
    groups = {}
    for f, _ in files_pods:
        groups.setdefault(find(("file", f)), []).append(f)
    shards = sorted(groups.values(), key=lambda g: order[g[0]])
    return [sorted(g, key=order.get) for g in shards]


def map_shards(tasks, binary, root, flags):
    """Runs the map step for each (index, files) and yields (index, partial bytes, stderr)."""
    import tempfile

    for index, files in tasks:
        with tempfile.TemporaryDirectory() as tmp:
            part = os.path.join(tmp, "partial.parquet")
            run = subprocess.run(
                [binary, "analyze", *files, "--partial", part, *flags],
                cwd=root,
                capture_output=True,
            )
            if run.returncode != 0:
                raise RuntimeError(
                    f"shard {index} ({', '.join(files)}): postmortem exited {run.returncode}: "
                    + run.stderr.decode("utf-8", "replace")
                )
            with open(part, "rb") as f:
                yield index, f.read(), run.stderr.decode("utf-8", "replace")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postmortem", required=True, help="the postmortem binary")
    ap.add_argument("--root", required=True, help="the folder the inputs are under")
    ap.add_argument("--out", required=True, help="the report folder merge writes")
    ap.add_argument("--partials", help="where the partials go (default: OUT/partials)")
    ap.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    ap.add_argument("paths", nargs="*", help="inputs under --root (default: all of it)")
    if "--" in argv:
        cut = argv.index("--")
        args, flags = ap.parse_args(argv[:cut]), argv[cut + 1 :]
    else:
        args, flags = ap.parse_args(argv), []
    binary = os.path.abspath(args.postmortem)
    root = os.path.abspath(args.root)
    partials = os.path.abspath(args.partials or os.path.join(args.out, "partials"))
    os.makedirs(partials, exist_ok=True)

    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(args.master)
        .appName("postmortem")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    try:
        files = list_inputs(root, args.paths)
        files_pods = (
            sc.parallelize(files, max(1, min(len(files), sc.defaultParallelism * 4)))
            .map(lambda f: (f, pods_of(root, f)))
            .collect()
        )
        shards = plan_shards(files_pods)
        with open(os.path.join(partials, "shards.json"), "w") as f:
            json.dump(shards, f, indent=1)
        results = (
            sc.parallelize(list(enumerate(shards)), len(shards))
            .mapPartitions(lambda it: map_shards(it, binary, root, flags))
            .collect()
        )
    finally:
        spark.stop()
    names = []
    for index, data, stderr in sorted(results):
        name = os.path.join(partials, f"shard-{index:05d}.parquet")
        with open(name, "wb") as f:
            f.write(data)
        names.append(name)
        if stderr.strip():
            sys.stderr.write(stderr)
    merge = subprocess.run(
        [binary, "merge", *names, "--out", os.path.abspath(args.out), *flags], cwd=root
    )
    return merge.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
