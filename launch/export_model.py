#!/usr/bin/python3
"""Turns a PyTorch model defined in a .py file into the TorchScript archive that
`xfed ... --model torchscript:OUT.pt` trains.

    launch/export_model.py FILE.py:CLASS --input-shape 1x28x28 --out net.pt [--trace]
                           [--kwargs '{"classes": 10}'] [--classes 10] [--seed 0]

It scripts the model (torch.jit.script), or traces it on a random batch with --trace (for
models whose Python torch.jit.script cannot compile; a traced model runs the ops it saw, so
data-dependent control flow is frozen). Then it checks what xfed checks before round 1: the
forward of a batch of two inputs of the given shape returns float [2, classes], and every
weight is finite. Uses /usr/bin/python3 with Debian's python3-torch (1.13, the same as the
LibTorch xfed links). Errors: one line on stderr, exit 2.
"""
import argparse
import hashlib
import importlib.util
import json
import math
import os
import sys


def fail(message):
    print("export_model.py: " + message, file=sys.stderr)
    sys.exit(2)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="FILE.py:CLASS", help="the file that defines the model and the class to build")
    p.add_argument("--input-shape", required=True, metavar="CxHxW",
                   help="one example's shape, as xfed's dataset gives it (1x28x28 for MNIST and Fashion-MNIST, "
                        "3x32x32 for CIFAR-10)")
    p.add_argument("--out", required=True, metavar="OUT.pt", help="where to write the archive")
    p.add_argument("--trace", action="store_true", help="trace instead of script")
    p.add_argument("--kwargs", default="{}", metavar="JSON", help="keyword arguments for CLASS(...)")
    p.add_argument("--classes", type=int, default=10, help="the class count the forward must return (10)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed before CLASS(...) (0): "
                                                        "the same file gives the same archive")
    return p.parse_args(joined_values(sys.argv[1:]))


def joined_values(argv):
    """'--input-shape -1x28x28' as '--input-shape=-1x28x28': argparse takes a value that starts
    with '-' for a flag (which values, depends on the Python release), so a negative shape, class
    count or seed reaches the checks below and gets their message."""
    out = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--input-shape", "--classes", "--seed") and i + 1 < len(argv):
            out.append(argv[i] + "=" + argv[i + 1])
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def input_shape(text):
    parts = text.split("x")
    if len(parts) != 3 or not all(s.isdigit() and 0 < int(s) <= 65536 for s in parts):
        fail("--input-shape '%s': expected CxHxW, three whole numbers in [1, 65536] (1x28x28)" % text)
    return [int(s) for s in parts]


def load_class(spec):
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        fail("'%s': expected FILE.py:CLASS" % spec)
    if not os.path.isfile(path):
        fail("%s: no such file" % path)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # the file's own imports
    module_spec = importlib.util.spec_from_file_location("xfed_user_model", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as e:  # the user's file: any error it raises is theirs to read
        fail("%s: %s: %s" % (path, type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
    cls = getattr(module, name, None)
    if cls is None:
        fail("%s defines no '%s'" % (path, name))
    return cls


def build(cls, args, torch):
    try:
        kwargs = json.loads(args.kwargs)
    except ValueError as e:
        fail("--kwargs '%s': not JSON (%s)" % (args.kwargs, e))
    if not isinstance(kwargs, dict):
        fail("--kwargs '%s': expected a JSON object" % args.kwargs)
    torch.manual_seed(args.seed)
    try:
        model = cls(**kwargs)
    except Exception as e:
        fail("%s(**%s): %s: %s" % (cls.__name__, args.kwargs, type(e).__name__, e))
    if not isinstance(model, torch.nn.Module):
        fail("%s is not a torch.nn.Module" % cls.__name__)
    return model


def convert(model, shape, args, torch):
    model.train()
    try:
        if args.trace:
            return torch.jit.trace(model, torch.rand([2] + shape))
        return torch.jit.script(model)
    except Exception as e:
        how = "torch.jit.trace" if args.trace else "torch.jit.script (try --trace)"
        first = next((line for line in str(e).splitlines() if line.strip()), type(e).__name__)
        fail("%s failed: %s" % (how, first))


def check(scripted, shape, classes, torch):
    with torch.no_grad():
        for name, t in list(scripted.named_parameters()) + list(scripted.named_buffers()):
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                fail("%s is not finite" % name)
        scripted.eval()
        try:
            out = scripted(torch.zeros([2] + shape))
        except Exception as e:
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            fail("forward on a batch of 2x%s failed: %s" % ("x".join(map(str, shape)), lines[-1] if lines else e))
        scripted.train()
    if not isinstance(out, torch.Tensor) or out.dtype != torch.float32 or list(out.shape) != [2, classes]:
        got = "x".join(map(str, out.shape)) + " " + str(out.dtype) if isinstance(out, torch.Tensor) else type(out)
        fail("forward returns %s; xfed expects float32 [2, %d] (batch, classes)" % (got, classes))


def main():
    args = parse_args()
    shape = input_shape(args.input_shape)
    if args.classes < 2:
        fail("--classes %d: expected 2 or more" % args.classes)
    import torch  # after the flags: --help works without torch
    cls = load_class(args.model)
    scripted = convert(build(cls, args, torch), shape, args, torch)
    check(scripted, shape, args.classes, torch)
    try:
        scripted.save(args.out)
    except Exception as e:
        fail("%s: %s" % (args.out, e))
    with open(args.out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    params = sum(p.numel() for p in scripted.parameters())
    print("%s: %s %s, %d parameters, %d bytes, sha256 %s" % (
        args.out, "traced" if args.trace else "scripted", args.model, params, os.path.getsize(args.out), digest))
    print("run it:  xfed simulate --model torchscript:%s --dataset ..." % args.out)


if __name__ == "__main__":
    main()
