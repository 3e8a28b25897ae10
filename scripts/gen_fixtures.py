#!/usr/bin/python3
"""Writes the golden fixtures in tests/fixtures/ that the C++ and JS tests
compare against. PyTorch is the reference: run with Debian's interpreter,
which has python3-torch and python3-numpy:

    /usr/bin/python3 scripts/gen_fixtures.py

The tests never need PyTorch; the outputs are committed (keep them small).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
OUT = os.path.join(HERE, "..", "tests", "fixtures")

from fixtures import rng  # noqa: E402


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "rng.json"), "w") as f:
        json.dump(rng.generate(), f, indent=1)
    try:
        import torch  # noqa: F401
    except ImportError as e:  # torch missing: say how to get it
        sys.exit(f"gen_fixtures: {e}; run with /usr/bin/python3 after `apt-get install python3-torch python3-numpy`")
    # Every module in scripts/fixtures/ with a generate(out_dir) writes its own fixture
    # file(s); `gen_fixtures.py NAME...` runs only those.
    import importlib
    import inspect
    names = sys.argv[1:] or sorted(
        f[:-3] for f in os.listdir(os.path.join(HERE, "fixtures")) if f.endswith(".py") and not f.startswith("_"))
    for name in names:
        module = importlib.import_module(f"fixtures.{name}")
        if hasattr(module, "generate") and len(inspect.signature(module.generate).parameters) == 1:
            module.generate(OUT)
    print("fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
