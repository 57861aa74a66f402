#!/usr/bin/env python3
"""Total traffic (uplink + downlink) to accuracy: compression in both directions (issue #13).

For each setting (iid; --fraction 0.3, where clients miss rounds; --partition dirichlet:0.5)
runs `xfed simulate` (Fashion-MNIST, mlp, 10 clients, seed 1: the CLI defaults) without
compression and with each flag set, one run after another (never two at once: round times
are compared), and prints a table per setting:

  rounds to A       A = the uncompressed run's accuracy after round 10 minus 0.5 pp
  bytes to A        up, down (delta | full) and total, counted from the metrics
  ratio             uncompressed total to A / this total to A
  final acc         after --rounds, and its distance to the uncompressed run's
  total             bytes up + down over all --rounds, and the uncompressed total over it
  coord codec       the coordinator's encode + decode seconds per round
  round time        seconds per round against the uplink-only run of the same setting

Usage: bench/traffic.py [--rounds 60] [--settings iid,fraction,dirichlet] [--keep DIR]
       [--from DIR] [--pipeline 'NAME=FLAGS' ...]
--keep DIR keeps every run's metrics (DIR/SETTING-NAME.jsonl) for launch/plot.py; --from DIR
prints the tables again from those files without running anything.
Needs build/bin/xfed (./launch/setup.sh). Standard library only.
"""
import argparse, json, os, shlex, subprocess, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XFED = os.path.join(ROOT, "build", "bin", "xfed")

UPLINK = "--compress topk:0.001,sign --sparsity-warmup 10"
# name -> flags; "uplink only" is the reference for round times.
DOWNLINK = "--downlink nonzero,qsgd:3:65536,zstd"
PIPELINES = [
    ("uplink only", UPLINK),
    ("aggregate", UPLINK + " " + DOWNLINK),
    ("aggregate 0.12 %", "--compress topk:0.0012,sign --sparsity-warmup 10 " + DOWNLINK),
    ("accurate", "--compress topk:0.03,sign,zstd --downlink nonzero,qsgd:4,zstd"),
]
SETTINGS = {
    "iid": [],
    "fraction": ["--fraction", "0.3"],
    "dirichlet": ["--partition", "dirichlet:0.5"],
}


def run(flags, rounds, keep, name, source=None):
    if source:  # tabulate the runs kept earlier
        with open(os.path.join(source, name + ".jsonl")) as f:
            return [l for l in map(json.loads, f) if not l.get("summary")]
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    cmd = [XFED, "simulate", "--quiet", "--rounds", str(rounds), "--metrics", path] + flags
    subprocess.run(cmd, check=True)
    with open(path) as f:
        lines = [json.loads(l) for l in f]
    if keep:
        os.makedirs(keep, exist_ok=True)
        os.replace(path, os.path.join(keep, name + ".jsonl"))
    else:
        os.unlink(path)
    return [l for l in lines if not l.get("summary")]


def reach(rounds, target):
    up = delta = full = 0
    for r in rounds:
        up += r["bytes_up"]
        delta += r.get("bytes_down_delta", 0)
        full += r.get("bytes_down_full", r["bytes_down"])
        if r["test_accuracy"] is not None and r["test_accuracy"] >= target:
            return r["round"], up, delta, full
    return None


def ratio(a, b):
    return f"{a / b:.0f}" if a >= 10 * b else f"{a / b:.1f}"


def mb(b):
    return f"{b / 1e6:.3f}"


def per_round(rounds, key):
    return sum(r.get(key, 0) for r in rounds) / len(rounds)


def all_bytes(rounds):
    return sum(r["bytes_up"] + r["bytes_down"] for r in rounds)


def table(setting, extra, rows, rounds, keep, source):
    base = run(extra, rounds, keep, f"{setting}-none", source)
    target = base[9]["test_accuracy"] - 0.005
    base_hit = reach(base, target)
    base_total = base_hit[1] + base_hit[2] + base_hit[3]
    base_final = base[-1]["test_accuracy"]
    print(f"\n### {setting} ({' '.join(extra) or 'defaults'}): A = {100 * target:.2f} %; "
          f"uncompressed reaches it at round {base_hit[0]} with {mb(base_total)} MB up + down, "
          f"ends {rounds} rounds at {100 * base_final:.2f} %\n")
    print(f"| flags | rounds to A | up MB | down MB (delta / full) | total MB | ratio | "
          f"final acc (vs none) | {rounds}-round total MB (ratio) | coord codec s/round | round time |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    reference = None
    for name, flags in rows:
        got = run(extra + shlex.split(flags), rounds, keep, f"{setting}-{name.replace(' ', '_')}", source)
        seconds = per_round(got, "seconds")
        if reference is None:
            reference = seconds
        hit = reach(got, target)
        final = got[-1]["test_accuracy"]
        codec = per_round(got, "seconds_coordinator_codec")
        if hit:
            r, up, delta, full = hit
            total = up + delta + full
            cells = [str(r), mb(up), f"{mb(delta + full)} ({mb(delta)} / {mb(full)})", mb(total),
                     f"**{ratio(base_total, total)}×**"]
        else:
            cells = [f"not in {rounds}", "-", "-", "-", "-"]
        print(f"| `{flags}` | " + " | ".join(cells) +
              f" | {100 * final:.2f} % ({100 * (final - base_final):+.2f} pp) | "
              f"{mb(all_bytes(got))} ({ratio(all_bytes(base), all_bytes(got))}×) | {codec:.4f} | "
              f"{seconds:.3f} s ({seconds / reference:.2f}×) |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--settings", default="iid,fraction,dirichlet")
    ap.add_argument("--keep", help="folder for the runs' metrics files")
    ap.add_argument("--from", dest="source", help="tabulate the runs kept in this folder, run nothing")
    ap.add_argument("--only", nargs="*", help="names of the flag sets to run (uplink only always runs)")
    ap.add_argument("--pipeline", action="append", default=[], help="extra row: NAME=FLAGS")
    args = ap.parse_args()
    rows = [p for p in PIPELINES if not args.only or p[0] in args.only or p[0] == "uplink only"]
    rows += [tuple(s.split("=", 1)) for s in args.pipeline]
    for setting in args.settings.split(","):
        if setting not in SETTINGS:
            raise SystemExit(f"traffic.py: --settings: unknown '{setting}' (iid, fraction, dirichlet)")
        table(setting, SETTINGS[setting], rows, args.rounds, args.keep, args.source)


if __name__ == "__main__":
    main()
