#!/usr/bin/env python3
"""Compressed communication benchmark (issue #3 targets).

Runs `xfed simulate` (Fashion-MNIST, mlp, 10 clients, iid: the CLI defaults) once without
compression and once per pipeline, up to --rounds rounds, and prints a table: rounds and
uplink bytes to first reach A (the uncompressed run's test accuracy after 10 rounds minus
0.5 pp), final accuracy, and the ratio of uncompressed to compressed bytes-to-A.

Usage: bench/compression.py [--rounds 60] [--only NAME ...] [-- extra xfed flags]
Needs build/bin/xfed (./launch/setup.sh). Standard library only.
"""
import argparse, json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XFED = os.path.join(ROOT, "build", "bin", "xfed")

# name -> extra flags
PIPELINES = [
    ("none", []),
    ("fp16", ["--compress", "fp16"]),
    ("qsgd:8", ["--compress", "qsgd:8"]),
    ("qsgd:4", ["--compress", "qsgd:4"]),
    ("sign", ["--compress", "sign"]),
    ("topk:0.01", ["--compress", "topk:0.01"]),
    ("topk:0.01,qsgd:4,zstd", ["--compress", "topk:0.01,qsgd:4,zstd"]),
    ("topk:0.001,qsgd:4", ["--compress", "topk:0.001,qsgd:4"]),
    ("topk:0.001,sign", ["--compress", "topk:0.001,sign"]),
    ("topk:0.001,sign + warm-up 10", ["--compress", "topk:0.001,sign", "--sparsity-warmup", "10"]),
    ("topk:0.001,sign + warm-up 10 + DGC m=0.5",
     ["--compress", "topk:0.001,sign", "--sparsity-warmup", "10", "--ef-momentum", "0.5"]),
]


def run(flags, rounds, extra):
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        path = f.name
    cmd = [XFED, "simulate", "--quiet", "--rounds", str(rounds), "--metrics", path] + flags + extra
    subprocess.run(cmd, check=True)
    with open(path) as f:
        lines = [json.loads(l) for l in f]
    os.unlink(path)
    return [l for l in lines if not l.get("summary")], lines[-1]


def reach(rounds, target):
    up = 0
    for r in rounds:
        up += r["bytes_up"]
        if r["test_accuracy"] >= target:
            return r["round"], up
    return None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--only", nargs="*", help="pipeline names to run (none always runs)")
    ap.add_argument("--pipeline", action="append", default=[],
                    help="extra row: NAME=FLAGS, e.g. 'mine=--compress topk:0.002,sign'")
    args, extra = ap.parse_known_args()
    extra = [e for e in extra if e != "--"]
    rows = [p for p in PIPELINES if not args.only or p[0] in args.only or p[0] == "none"]
    rows += [(s.split("=", 1)[0], s.split("=", 1)[1].split()) for s in args.pipeline]
    base_rounds, _ = run([], args.rounds, extra)
    target = base_rounds[9]["test_accuracy"] - 0.005
    base_r, base_bytes = reach(base_rounds, target)
    print(f"A = {100 * target:.2f} % (uncompressed accuracy after round 10 minus 0.5 pp); "
          f"uncompressed reaches it at round {base_r} with {base_bytes / 1e6:.2f} MB uplink\n")
    print("| pipeline | rounds to A | uplink bytes to A | bytes/update | final acc | ratio to none |")
    print("|---|---|---|---|---|---|")
    for name, flags in rows:
        rounds, summary = (base_rounds, None) if name == "none" else run(flags, args.rounds, extra)
        r, b = reach(rounds, target)
        per_update = rounds[-1]["bytes_up"] / max(1, rounds[-1]["clients"])
        final = rounds[-1]["test_accuracy"]
        ratio = f"{base_bytes / b:.0f}x" if b else "-"
        print(f"| {name} | {r if r else 'not in ' + str(args.rounds)} | "
              f"{b if b else '-'} | {per_update:.0f} | {100 * final:.2f} % | {ratio} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
