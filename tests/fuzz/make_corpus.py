#!/usr/bin/env python3
"""Writes the seed corpus of the safetensors fuzzer (tests/fuzz/corpus/safetensors/):
one small valid file per dtype, a file with every dtype, metadata and zero-length
tensors, and a few hostile files (one per class of finding in issue 7). The
files are committed; rerun this after changing it:  python3 tests/fuzz/make_corpus.py
"""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "safetensors")


def raw(header_text, data=b""):
    h = header_text.encode() if isinstance(header_text, str) else header_text
    return struct.pack("<Q", len(h)) + h + data


def tensors(items, metadata=None):
    """items: (name, dtype, shape, bytes); offsets packed back to back."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, blob in items:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    return raw(json.dumps(header, separators=(",", ":")), data)


def entry(name, dtype, shape, begin, end):
    return '"%s":{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}' % (name, dtype, shape, begin, end)


VALID = {
    "f32": [("w", "F32", [2, 3], struct.pack("<6f", 1, -2, 0.5, float("inf"), float("nan"), -0.0))],
    "f16": [("h", "F16", [5], struct.pack("<5H", 0x3C00, 0x0001, 0x7BFF, 0xFC00, 0x7E00))],
    "bf16": [("b", "BF16", [3], struct.pack("<3H", 0x3F80, 0xC049, 0x0001))],
    "f64": [("d", "F64", [3], struct.pack("<3d", 0.1, 1e300, -1e-50))],
    "i64": [("l", "I64", [3], struct.pack("<3q", -1, 2**53 + 1, -(2**63)))],
    "i32": [("i", "I32", [2, 2], struct.pack("<4i", 7, -7, 2**31 - 1, -(2**31)))],
    "bool": [("m", "BOOL", [4], bytes([1, 0, 0, 1]))],
    "u8": [("u", "U8", [3], bytes([0, 2, 255]))],
}

HOSTILE = {
    # 8 aliases of one block: must be refused, not expanded.
    "aliases": raw("{" + ",".join(entry("w%d" % i, "F32", "[4]", 0, 16) for i in range(8)) + "}", bytes(16)),
    "overlap": raw("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", bytes(12)),
    "hole": raw("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}", bytes(12)),
    "trailing": raw("{" + entry("a", "F32", "[1]", 0, 4) + "}", bytes(8)),
    "deep": raw('{"x":{"dtype":"F32","shape":' + "[" * 6 + "]" * 6 + ',"data_offsets":[0,0]}}'),
    "huge_shape": raw("{" + entry("x", "F32", "[0,3,2147483647,2147483647]", 0, 0) + "}"),
    "big_dim": raw("{" + entry("x", "F32", "[4294967296]", 0, 4) + "}", bytes(4)),
    "bad_dims": raw("{" + entry("x", "F32", '[-1,1.5,"2",null]', 0, 4) + "}", bytes(4)),
    "duplicate": raw("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 0, 4) + "}", bytes(4)),
    "metadata_int": raw('{"__metadata__":{"k":1}}'),
    "header_len_2_60": struct.pack("<Q", 2**60) + b"{}",
    "truncated": tensors(VALID["f32"])[:-5],
    "escaped_name": raw("{" + entry("a\\u0000\\\"[{", "C64", "[1]", 0, 8) + "}", bytes(8)),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    files = {"valid_" + k: tensors(v) for k, v in VALID.items()}
    files["valid_all"] = tensors(
        [t for v in VALID.values() for t in v]
        + [("empty", "F64", [0, 4], b""), ("scalar", "F32", [], struct.pack("<f", 3.0))],
        metadata={"format": "pt"})
    files["valid_empty"] = raw("{}")
    files.update({"hostile_" + k: v for k, v in HOSTILE.items()})
    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
            f.write(data)
    print("wrote %d files, %d bytes, to %s" % (len(files), sum(map(len, files.values())), OUT))


if __name__ == "__main__":
    main()
