#!/usr/bin/env python3
"""Federated pruning benchmark (issue #4 targets). Tables, in order (--tables picks some):

schedule  Fashion-MNIST, 10 clients, 40 rounds; unpruned vs pruned runs with the same seed,
          iid and dirichlet:0.5; mlp pruned to 10 % of params, lenet5 to 10 % of FLOPs; DI
          with the default schedule, L1 for comparison, and a dense model of the same budget
          trained from scratch for the same rounds (what pruning has to beat).
budget    the same (iid) at larger budgets: where the 0.5 pp goal is reached.
oneshot   one mlp trained for --oneshot-round rounds (identical for every row: same seed),
          pruned once to fixed widths with no fine-tuning (hidden layers 300-100 -> 60-20
          and -> 30-10, inputs kept): test accuracy right after surgery, per criterion and
          DI rho.
vgg       the same kind of cut on a BatchNorm model (vgg at half width, where the `bn`
          criterion applies): trained --vgg-rounds rounds once and checkpointed; every row
          resumes that checkpoint for one more round and cuts 25 % of every layer's channels.
criteria  every criterion through the full iterative schedule (mlp, iid, 10 % of params).
seeds     the mlp iid rows of the schedule table with seeds 2 and 3.
stats     bench_pruning_stats on the one-shot model: stats-round cost, federated vs central.
restated  issue #14: mean of seeds 1-3 (two runs at a time), loss against the unpruned run
          at budgets 50 ... 10 % of params (mlp) and 10 % of FLOPs (lenet5), for the default
          `di` and `l1` schedules and the best DI schedule found (refit, lr restart, pixels
          by their outgoing weights, early large steps); then the headline run, compressed
          both ways and pruned, against the dense uncompressed unpruned run.

Usage: bench/pruning.py [--tables schedule,budget,...] [--skip-lenet]   (after ./launch/setup.sh)
       XFED_BIN=DIR bench/pruning.py ...   binaries from DIR instead of build/bin
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

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


def vgg_oneshot_table(at_round):
    """One-shot cut of every layer of a BatchNorm model; rows resume one checkpoint."""
    vgg = ["--model", "vgg", "--widths", "16,16,32,32,64,64,128"]
    rows = [("none (not pruned)", None), ("di rho=5 (default)", "di"),
            ("di rho=1", "di:rho=1"), ("di spatial=1", "di:spatial=1"), ("drop", "drop"),
            ("fdr", "fdr"), ("l1", "l1"), ("bn", "bn"), ("taylor", "taylor"), ("random", "random")]
    cut = f"every=1000,warmup={at_round + 1},fraction=0.25,input=0,target=0.0001,min_units=1"
    with tempfile.TemporaryDirectory() as tmp:
        trained = os.path.join(tmp, "trained")
        _, s = run(vgg + ["--rounds", str(at_round), "--checkpoint-dir", trained])
        print(f"vgg 16-16-32-32-64-64-128, iid, trained {at_round} rounds: "
              f"{100 * s['final_accuracy']:.2f} %; round {at_round + 1} then cuts 25 % of every "
              "layer's channels, no fine-tuning\n")
        print(f"| criterion | test acc after round {at_round + 1} and the cut |")
        print("|---|---|")
        for i, (name, spec) in enumerate(rows):
            ck = os.path.join(tmp, f"row{i}")
            shutil.copytree(trained, ck)
            prune = [] if spec is None else ["--prune", spec + ("," if ":" in spec else ":") + cut]
            rounds, _ = run(vgg + ["--rounds", str(at_round + 1), "--checkpoint-dir", ck, "--resume"] + prune)
            print(f"| {name} | {100 * rounds[-1]['test_accuracy']:.2f} % |", flush=True)


def mlp_scratch_widths(fraction, full_params=266610):
    """The widest 784-W-W/3 mlp within `fraction` of the full model's params."""
    def params(w1):
        w2 = max(1, round(w1 / 3))
        return 785 * w1 + (w1 + 1) * w2 + (w2 + 1) * 10, w2
    w1 = 1
    while params(w1 + 1)[0] <= fraction * full_params:
        w1 += 1
    return f"{w1},{params(w1)[1]}"


def budget_table(models):
    """Loss against the unpruned run as the budget grows: where the 0.5 pp goal is reached."""
    print("| model | target | `--prune di` | `--prune l1` | dense from scratch |")
    print("|---|---|---|---|---|")
    for model, target_key, budgets in models:
        base = ["--model", model]
        _, unpruned = run(base)
        print(f"| {model} | 100 % (unpruned) | {100 * unpruned['final_accuracy']:.2f} % | | |", flush=True)
        for b in budgets:
            cells = []
            for c in ["di", "l1"]:
                _, s = run(base + ["--prune", f"{c}:{target_key}={b}"])
                cells.append(f"{100 * (s['final_accuracy'] - unpruned['final_accuracy']):+.2f} pp")
            if model == "mlp":
                w = mlp_scratch_widths(b)
                _, s = run(base + ["--widths", w])
                cells.append(f"{100 * (s['final_accuracy'] - unpruned['final_accuracy']):+.2f} pp "
                             f"(`--widths {w}`)")
            else:
                cells.append("not run")
            unit = "params" if target_key == "target" else "FLOPs"
            print(f"| {model} | {100 * b:.0f} % of {unit} | " + " | ".join(cells) + " |", flush=True)


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


def stats_bench(at_round):
    """bench_pruning_stats on a model trained like the one-shot table's."""
    model = os.path.join(tempfile.gettempdir(), "xfed_bench_pruning.model")
    subprocess.run([XFED, "simulate", "--quiet", "--rounds", str(at_round), "--save-model", model], check=True)
    subprocess.run([os.path.join(BIN, "bench_pruning_stats"), model], check=True)


DI_BEST = "refit=1,restart_lr=1,input_l1=1,warmup=2,every=2,fraction=0.4,input_fraction=0.4"
HEADLINE = ["--compress", "topk:0.1,qsgd:4,zstd", "--downlink", "nonzero,qsgd:4,zstd",
            "--prune", "di:target=0.1,stats_fraction=0.3," + DI_BEST]
SEEDS = [1, 2, 3]


def parallel(jobs):
    """run() for each flag list, two at a time (accuracies do not depend on it)."""
    with ThreadPoolExecutor(2) as ex:
        return list(ex.map(run, jobs))


def training_flops(rounds):
    """Client training FLOPs relative to the unpruned model: round r trains the model that
    round r - 1 left (every round trains the same samples)."""
    f0 = rounds[0]["flops"]
    return sum([f0] + [r["flops"] for r in rounds[:-1]]) / (f0 * len(rounds))


def wire_bytes(summary):
    return summary["total_bytes_up"] + summary["total_bytes_down"] + summary["total_bytes_other"]


def restated_budgets(model, key, budgets, rows):
    """One line per budget: mean loss over SEEDS (and the spread) per row."""
    base = ["--model", model]
    unpruned = parallel([base + ["--seed", str(s)] for s in SEEDS])
    ref = [u[1]["final_accuracy"] for u in unpruned]
    print(f"| {model} | unpruned, seeds 1 / 2 / 3 | " + " / ".join(f"{100 * a:.2f} %" for a in ref) +
          " |" + " |" * (len(rows) - 1), flush=True)
    for b in budgets:
        jobs = [base + ["--seed", str(s), "--prune", f"{c}:{key}={b}" + ("," + extra if extra else "")]
                for _, c, extra in rows for s in SEEDS]
        out = parallel(jobs)
        cells = []
        for i in range(len(rows)):
            d = [100 * (out[i * len(SEEDS) + j][1]["final_accuracy"] - ref[j]) for j in range(len(SEEDS))]
            cells.append(f"{statistics.mean(d):+.2f} pp (±{statistics.stdev(d):.2f})")
        unit = "params" if key == "target" else "FLOPs"
        print(f"| {model} | {100 * b:.0f} % of {unit} | " + " | ".join(cells) + " |", flush=True)


def headline():
    (rounds, s), (_, dense) = parallel([HEADLINE, []])
    print("| run | final acc | vs dense | params | client training FLOPs | total bytes |")
    print("|---|---|---|---|---|---|")
    print(f"| dense, uncompressed, unpruned | {100 * dense['final_accuracy']:.2f} % | | 100 % | 100 % | "
          f"{wire_bytes(dense) / 1e6:.1f} MB |")
    print(f"| `{' '.join(HEADLINE)}` | {100 * s['final_accuracy']:.2f} % | "
          f"{100 * (s['final_accuracy'] - dense['final_accuracy']):+.2f} pp | "
          f"{100 * s['params'] / rounds[0]['params']:.1f} % | {100 * training_flops(rounds):.1f} % | "
          f"{wire_bytes(s) / 1e6:.2f} MB ({100 * wire_bytes(s) / wire_bytes(dense):.2f} %) |", flush=True)


def restated(lenet):
    rows = [("`di` (default schedule)", "di", ""), ("`di` best", "di", DI_BEST),
            ("`l1` (default schedule)", "l1", "")]
    print(f"`di` best = `{DI_BEST}`; loss vs the unpruned run of the same seed, mean of seeds "
          "1-3 (± their standard deviation), 40 rounds, iid\n")
    print("| model | budget | " + " | ".join(r[0] for r in rows) + " |")
    print("|---|---|" + "---|" * len(rows))
    restated_budgets("mlp", "target", [0.5, 0.4, 0.3, 0.2, 0.1], rows)
    if lenet:
        restated_budgets("lenet5", "target_flops", [0.1], rows)
    print()
    headline()


TABLES = ["schedule", "budget", "oneshot", "vgg", "criteria", "seeds", "stats", "restated"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tables", default=",".join(TABLES),
                    help="comma-separated subset of " + ",".join(TABLES) + " (default: all)")
    ap.add_argument("--skip-lenet", action="store_true")
    ap.add_argument("--oneshot-round", type=int, default=20)
    ap.add_argument("--vgg-rounds", type=int, default=4)
    args = ap.parse_args()
    tables = args.tables.split(",")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        ap.error(f"--tables: unknown table {','.join(unknown)} (known: {','.join(TABLES)})")
    lenet = not args.skip_lenet
    steps = {
        "schedule": lambda: schedule_table([("mlp", "target")] + ([("lenet5", "target_flops")] if lenet else [])),
        "budget": lambda: budget_table([("mlp", "target", [0.5, 0.4, 0.3, 0.2])] +
                                       ([("lenet5", "target_flops", [0.5, 0.3])] if lenet else [])),
        "oneshot": lambda: oneshot_table(args.oneshot_round),
        "vgg": lambda: vgg_oneshot_table(args.vgg_rounds),
        "criteria": iterative_table,
        "seeds": lambda: seeds_table([2, 3]),
        "stats": lambda: stats_bench(args.oneshot_round),
        "restated": lambda: restated(lenet),
    }
    for name in TABLES:
        if name in tables:
            steps[name]()
            print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
