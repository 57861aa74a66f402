#!/usr/bin/python3
"""Pictures of xfed runs: accuracy by round, accuracy by total bytes, parameters by round.

Usage: launch/plot.py METRICS.jsonl [METRICS.jsonl ...] [--out DIR] [--label NAME ...]

Reads the metrics files that `xfed simulate|mpi|coordinator --metrics FILE` writes (one JSON
object per round, then a summary) and writes three PNGs to --out (default: plots/):
  accuracy_by_round.png   test accuracy after each evaluated round
  accuracy_by_bytes.png   test accuracy against cumulative bytes up + down (log axis)
  params_by_round.png     model parameters after each round (pruning shrinks them)
Each run is one line, labelled by --label (in order) or by its file name.
Needs matplotlib (Debian: apt-get install python3-matplotlib).
"""
import argparse, json, os, sys


def fail(message):
    print(f"plot.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_rounds(path):
    try:
        with open(path) as f:
            lines = [l for l in f if l.strip()]
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    rounds = []
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            fail(f"{path}:{n}: not JSON ({e.msg})")
        if obj.get("summary"):
            continue
        if "round" not in obj or "bytes_up" not in obj or "bytes_down" not in obj:
            fail(f"{path}:{n}: not an xfed metrics line (no round/bytes_up/bytes_down)")
        rounds.append(obj)
    if not rounds:
        fail(f"{path}: no rounds")
    return rounds


def series(rounds):
    total, xs_round, xs_bytes, acc, params = 0, [], [], [], []
    for r in rounds:
        total += r["bytes_up"] + r["bytes_down"]
        if r.get("test_accuracy") is not None:
            xs_round.append(r["round"])
            xs_bytes.append(total)
            acc.append(100 * r["test_accuracy"])
    params = [(r["round"], r.get("params", 0)) for r in rounds]
    return xs_round, xs_bytes, acc, params


def main():
    ap = argparse.ArgumentParser(description="Plots of xfed metrics files.")
    ap.add_argument("metrics", nargs="+", help="metrics JSONL files")
    ap.add_argument("--out", default="plots", help="output folder (default: plots)")
    ap.add_argument("--label", action="append", default=[], help="a run's name, in order")
    args = ap.parse_args()
    if len(args.label) > len(args.metrics):
        fail(f"{len(args.label)} labels for {len(args.metrics)} files")
    runs = []
    for i, path in enumerate(args.metrics):
        label = args.label[i] if i < len(args.label) else os.path.splitext(os.path.basename(path))[0]
        runs.append((label, series(read_rounds(path))))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("needs matplotlib: apt-get install python3-matplotlib")
    os.makedirs(args.out, exist_ok=True)

    def figure(name, xlabel, ylabel, draw, logx=False):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, s in runs:
            draw(ax, label, s)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if logx:
            ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = os.path.join(args.out, name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print(path)

    figure("accuracy_by_round.png", "round", "test accuracy (%)",
           lambda ax, label, s: ax.plot(s[0], s[2], label=label))
    figure("accuracy_by_bytes.png", "bytes up + down, cumulative", "test accuracy (%)",
           lambda ax, label, s: ax.plot(s[1], s[2], label=label), logx=True)
    figure("params_by_round.png", "round", "parameters",
           lambda ax, label, s: ax.plot([p[0] for p in s[3]], [p[1] for p in s[3]], label=label))


if __name__ == "__main__":
    main()
