#!/usr/bin/env python3
"""Federated pruning benchmark (issue #4 targets).

1. Schedule table: Fashion-MNIST, 10 clients, 40 rounds; unpruned vs pruned runs with the
   same seed, iid and dirichlet:0.5; mlp pruned to 10 % of params, lenet5 to 10 % of FLOPs;
   DI with the default schedule, L1 for comparison, and a dense model of the same budget
   trained from scratch for the same rounds (what pruning has to beat).
2. One-shot table: one model trained for --oneshot-round rounds (identical for every row:
   same seed), then pruned once to fixed widths with no fine-tuning (mlp hidden layers
   300-100 -> 60-20 and -> 30-10, inputs kept), test accuracy right after surgery, per
   criterion and DI rho; then every criterion through the full iterative schedule, and
   the mlp iid rows of table 1 with seeds 2 and 3.
3. bench_pruning_stats on that trained model: stats-round cost, federated vs central.

Usage: bench/pruning.py [--skip-lenet] [--only-oneshot]      (after ./launch/setup.sh)
       XFED_BIN=DIR bench/pruning.py ...   binaries from DIR instead of build/bin
"""
import argparse, json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("XFED_BIN", os.path.join(ROOT, "build", "bin"))  # override: a frozen copy
XFED = os.path.join(BIN, "xfed")


def run(flags, widths_out=None):
    """Per-round metrics and summary of one simulation; widths_out: also the final widths."""
    with tempfile.TemporaryDirectory() as tmp:
        path, model = os.path.join(tmp, "m.jsonl"), os.path.join(tmp, "final.model")
        extra = ["--save-model", model] if widths_out is not None else []
        subprocess.run([XFED, "simulate", "--quiet", "--metrics", path] + extra + flags, check=True)
        with open(path) as f:
            lines = [json.loads(l) for l in f]
        if widths_out is not None:
            with open(model + ".json") as f:
                widths_out.extend(json.load(f)["spec"]["widths"])
    return lines[:-1], lines[-1]


def schedule_table(models):
    print("| model | partition | run | final acc | vs unpruned | params kept | FLOPs kept | uplink MB |")
    print("|---|---|---|---|---|---|---|---|")
    for model, target_key in models:
        for part in ["iid", "dirichlet:0.5"]:
            base = ["--model", model, "--partition", part, "--rounds", "40"]
            rounds, unpruned = run(base)
            p0, f0 = rounds[0]["params"], rounds[0]["flops"]
            rows = [("unpruned", unpruned)]
            widths = []
            for c in ["di", "l1"]:
                _, s = run(base + ["--prune", f"{c}:{target_key}=0.1"], widths if c == "di" else None)
                rows.append((f"--prune {c}:{target_key}=0.1", s))
            # The same budget trained from scratch: the mlp keeps every pixel, so its hidden
            # layers must be narrower (32-16: 9.7 % of params); lenet5 takes DI's final widths.
            scratch = "32,16" if model == "mlp" else ",".join(str(w) for w in widths)
            _, s = run(base + ["--widths", scratch])
            rows.append((f"dense from scratch `--widths {scratch}`", s))
            for name, s in rows:
                d = 100 * (s["final_accuracy"] - unpruned["final_accuracy"])
                print(f"| {model} | {part} | {name} | {100 * s['final_accuracy']:.2f} % | "
                      f"{d:+.2f} pp | {100 * s['params'] / p0:.1f} % | {100 * s['flops'] / f0:.1f} % | "
                      f"{s['total_bytes_up'] / 1e6:.0f} |", flush=True)


def oneshot_table(at_round):
    rows = [("di rho=0.001", "di", "rho=0.001"), ("di rho=0.1", "di", "rho=0.1"),
            ("di rho=1", "di", "rho=1"), ("di rho=5 (default)", "di", "rho=5"),
            ("di rho=10", "di", "rho=10"), ("drop (exact leave-one-out)", "drop", "rho=5"),
            ("fdr (cherry-picking)", "fdr", "rho=5"), ("l1", "l1", ""), ("taylor", "taylor", ""),
            ("random", "random", "")]
    _, unpruned = run(["--rounds", str(at_round)])
    print(f"trained {at_round} rounds (mlp, iid): {100 * unpruned['final_accuracy']:.2f} % before pruning\n")
    print("| criterion | 300-100 -> 60-20 | 300-100 -> 30-10 |")
    print("|---|---|---|")
    for name, crit, extra in rows:
        accs = []
        for frac in ["0.8", "0.9"]:
            spec = f"{crit}:every=1000,warmup={at_round},fraction={frac},input=0,target=0.0001,min_units=1"
            if extra:
                spec += "," + extra
            rounds, _ = run(["--rounds", str(at_round), "--prune", spec])
            accs.append(rounds[-1]["test_accuracy"])
        print(f"| {name} | {100 * accs[0]:.2f} % | {100 * accs[1]:.2f} % |", flush=True)


def iterative_table():
    """Every criterion through the full default schedule to 10 % of params (mlp, iid)."""
    print("| criterion | final acc after `--prune C:target=0.1` (mlp, iid, 40 rounds) |")
    print("|---|---|")
    for c in ["di", "drop", "fdr", "l1", "taylor", "random"]:
        _, s = run(["--prune", f"{c}:target=0.1"])
        print(f"| {c} | {100 * s['final_accuracy']:.2f} % |", flush=True)


def seeds_table(seeds):
    """mlp, iid, to 10 % of params: unpruned, DI and L1 again with other seeds."""
    print("| seed | unpruned | --prune di:target=0.1 | --prune l1:target=0.1 |")
    print("|---|---|---|---|")
    for seed in seeds:
        accs = [run(["--seed", str(seed)] + p)[1]["final_accuracy"]
                for p in ([], ["--prune", "di:target=0.1"], ["--prune", "l1:target=0.1"])]
        print(f"| {seed} | " + " | ".join(f"{100 * a:.2f} %" for a in accs) + " |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-lenet", action="store_true")
    ap.add_argument("--only-oneshot", action="store_true")
    ap.add_argument("--oneshot-round", type=int, default=20)
    args = ap.parse_args()
    if not args.only_oneshot:
        models = [("mlp", "target")] + ([] if args.skip_lenet else [("lenet5", "target_flops")])
        schedule_table(models)
        print()
    oneshot_table(args.oneshot_round)
    print()
    if not args.only_oneshot:
        iterative_table()
        print()
        seeds_table([2, 3])
        print()
    model = os.path.join(tempfile.gettempdir(), "xfed_bench_pruning.model")
    subprocess.run([XFED, "simulate", "--quiet", "--rounds", str(args.oneshot_round), "--save-model", model], check=True)
    subprocess.run([os.path.join(BIN, "bench_pruning_stats"), model], check=True)


if __name__ == "__main__":
    sys.exit(main())
