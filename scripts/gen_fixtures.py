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
        from fixtures import attention
    except ImportError as e:  # torch missing: say how to get it
        sys.exit(f"gen_fixtures: {e}; run with /usr/bin/python3 after `apt-get install python3-torch python3-numpy`")
    attention.generate(OUT)
    print("fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
