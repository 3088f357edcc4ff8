"""Shared helpers for the lossatlas Python tests: the CLI's network fixtures, read independently."""

import json
import os
import pathlib
import shutil
import struct

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = REPO / "crates" / "lossatlas-cli" / "tests" / "fixtures" / "net"


def read_safetensors(path):
    """A safetensors file as a dict of float64 arrays, read from the format's definition (an
    8-byte little-endian header length, a JSON header of dtype, shape and byte offsets, then the
    data), without lossatlas or the safetensors package."""
    raw = pathlib.Path(path).read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    data = raw[8 + length :]
    dtypes = {"F32": "<f4", "F64": "<f8"}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        tensors[name] = array.astype(np.float64)
    return tensors


def read_clf_csv():
    """clf.csv: three features and an integer label per row."""
    table = np.loadtxt(FIXTURES / "clf.csv", delimiter=",", skiprows=1)
    return table[:, :3], table[:, 3].astype(np.int64)


@pytest.fixture
def reference():
    return json.loads((FIXTURES / "reference.json").read_text())


def cli_binary():
    """The lossatlas command built from this workspace, if there is one (LOSSATLAS_BIN, the
    workspace's target folders, or the PATH)."""
    candidates = [os.environ.get("LOSSATLAS_BIN")]
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    candidates += [str(target / profile / "lossatlas") for profile in ("debug", "release")]
    candidates.append(shutil.which("lossatlas"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            return candidate
    return None
