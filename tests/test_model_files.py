"""Model files that would cost far more to open than they are worth are refused before a member is read."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from models.persistence import FORMAT, MAX_RATIO, MAX_UNPACKED_BYTES, ModelFileError, load_model

CENTRAL_ENTRY = b"PK\x01\x02"


def dump(state: dict, path: Path, **options) -> Path:
    import skops.io

    skops.io.dump(state, path, **options)
    return path


def declare(path: Path, name: str, packed: int, unpacked: int) -> None:
    """Make the zip directory of `path` declare other sizes for member `name` (what a crafted file can say)."""
    data = bytearray(path.read_bytes())
    at = data.find(CENTRAL_ENTRY)
    while at != -1:
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46 : at + 46 + name_length].decode() == name:
            struct.pack_into("<II", data, at + 20, packed, unpacked)
            path.write_bytes(bytes(data))
            return
        at = data.find(CENTRAL_ENTRY, at + 46 + name_length + extra_length + comment_length)
    raise AssertionError(f"{name} is not in {path}")


def test_a_member_packed_far_tighter_than_any_model_is_refused(tmp_path):
    # 64 MiB of zeros deflate to about 64 KB: some thousand times, where a model's members pack at most ~50 times
    bomb = dump(
        {"format": FORMAT, "weights": np.zeros(8 << 20)}, tmp_path / "bomb.skops", compression=zipfile.ZIP_DEFLATED
    )
    (member,) = [m for m in zipfile.ZipFile(bomb).infolist() if m.filename.endswith(".npy")]
    assert member.file_size / member.compress_size > MAX_RATIO
    with pytest.raises(ModelFileError) as caught:
        load_model(bomb)
    message = str(caught.value)
    assert message.startswith(f"{bomb}: refused: member '{member.filename}' unpacks")
    assert f"to {member.file_size:,}" in message and f"at most {MAX_RATIO} times" in message


def test_members_that_unpack_to_more_than_a_gibibyte_are_refused(tmp_path):
    crafted = dump({"format": FORMAT, "weights": np.arange(1000.0)}, tmp_path / "crafted.skops")
    (member,) = [m.filename for m in zipfile.ZipFile(crafted).infolist() if m.filename.endswith(".npy")]
    declare(crafted, member, packed=1 << 30, unpacked=(1 << 31) - 1)
    with pytest.raises(ModelFileError, match=rf"refused: its members unpack to more than {MAX_UNPACKED_BYTES:,} bytes"):
        load_model(crafted)
    with pytest.raises(ModelFileError, match=f"reached at member '{member}', 2,147,483,647 bytes"):
        load_model(crafted)


def test_a_file_of_too_many_members_is_refused(tmp_path):
    many = tmp_path / "many.skops"
    with zipfile.ZipFile(many, "w") as archive:
        for number in range(10_001):
            archive.writestr(f"{number}.npy", b"")
    with pytest.raises(ModelFileError, match=r"many\.skops: refused: 10,001 members; a model file has at most 10,000"):
        load_model(many)


def test_the_demo_model_is_far_inside_the_bounds(sample_model_file):
    members = zipfile.ZipFile(sample_model_file).infolist()
    assert sum(m.file_size for m in members) < MAX_UNPACKED_BYTES / 3
    assert max(m.file_size / max(m.compress_size, 1) for m in members) < MAX_RATIO / 4
    assert load_model(sample_model_file).version
