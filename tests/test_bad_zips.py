"""Deployment never hangs and never answers 500 (issue 14): every bad zip is a Failed function with
a clear message, and a slow import does not hold up another function's deployment."""

from __future__ import annotations

import io
import os
import struct
import sys
import threading
import types
import zipfile
from collections.abc import Callable, Iterator

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from tests.test_functions import create_from_zip

HANDLER = b"def handle():\n    return 'ok'\n"
CENTRAL, LOCAL = b"PK\x01\x02", b"PK\x03\x04"


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def _patch(data: bytes, name: str, **fields: int) -> bytes:
    """Rewrite header fields of entry ``name`` in both its local and its central header."""
    offsets = {  # field -> (offset in the local header, offset in the central header, struct format)
        "flags": (6, 8, "<H"),
        "method": (8, 10, "<H"),
        "size": (22, 24, "<I"),
    }
    out = bytearray(data)
    encoded = name.encode()
    for signature, which in ((LOCAL, 0), (CENTRAL, 1)):
        name_at = 30 if which == 0 else 46
        start = 0
        while (start := out.find(signature, start)) >= 0:
            if out[start + name_at : start + name_at + len(encoded)] == encoded:
                for key, value in fields.items():
                    offset, fmt = offsets[key][which], offsets[key][2]
                    struct.pack_into(fmt, out, start + offset, value)
            start += 4
    return bytes(out)


def _bad_crc() -> bytes:
    data = _zip({"handler.py": HANDLER, "data.txt": b"the original content"})
    return data.replace(b"the original content", b"the tampered content")


def _lying_size() -> bytes:
    return _patch(_zip({"handler.py": HANDLER, "big.bin": b"x" * 5000}), "big.bin", size=10)


BAD_ZIPS: dict[str, tuple[Callable[[], bytes], str]] = {
    "file-folder-clash": (
        lambda: _zip({"handler.py": HANDLER, "utils": b"x", "utils/x.py": b""}),
        "both a file and a folder named 'utils'",
    ),
    "300-character-name": (lambda: _zip({"handler.py": HANDLER, "a" * 300 + ".py": b""}), "too long"),
    "bad-crc": (_bad_crc, "Cannot unpack 'data.txt' from the zip: the zip is corrupt (Bad CRC-32"),
    "encrypted": (
        lambda: _patch(_zip({"handler.py": HANDLER, "secret.py": b"x = 1"}), "secret.py", flags=1),
        "Encrypted entries are not supported: 'secret.py'",
    ),
    "unknown-compression": (
        lambda: _patch(_zip({"handler.py": HANDLER, "odd.py": b"x = 1"}), "odd.py", method=97),
        "Unsupported compression method 97 for 'odd.py'",
    ),
    "lying-size": (_lying_size, "Cannot unpack 'big.bin' from the zip"),
    "truncated": (lambda: _zip({"handler.py": HANDLER})[:-30], "not a zip archive"),
}


@pytest.mark.parametrize("case", list(BAD_ZIPS))
def test_a_bad_zip_is_a_failed_function(case: str, emu: FunctionsEmulator, sdk: CogniteClient) -> None:
    make, message = BAD_ZIPS[case]
    meta = sdk.files.upload_bytes(make(), name="code.zip")
    fn = sdk.functions.create(name=case, file_id=meta.id)
    assert fn.status == "Failed", fn
    assert message in fn.error["message"], fn.error
    assert sdk.functions.retrieve(id=fn.id).status == "Failed"
    assert list((emu.workdir / "functions").glob("*")) == []  # nothing left behind
    ok = create_from_zip(sdk, {"handler.py": HANDLER.decode()}, name="after")
    assert ok.call().get_response() == "ok"


@pytest.fixture
def gate() -> Iterator[types.ModuleType]:
    """A module the slow function imports: it waits at import until the test opens the gate."""
    module = types.ModuleType("emulator_test_gate")
    module.entered = threading.Event()  # type: ignore[attr-defined]
    module.release = threading.Event()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    module.release.set()  # type: ignore[attr-defined]
    sys.modules.pop(module.__name__, None)


SLOW = (
    "import emulator_test_gate as gate\n"
    "gate.entered.set()\n"
    "gate.release.wait(60)\n"
    "def handle():\n"
    "    return 'slow'\n"
)


def test_a_slow_import_does_not_block_another_deployment(
    emu: FunctionsEmulator, sdk: CogniteClient, gate: types.ModuleType
) -> None:
    results: list[object] = []
    slow = threading.Thread(
        target=lambda: results.append(create_from_zip(sdk, {"handler.py": SLOW}, name="slow")), daemon=True
    )
    slow.start()
    assert gate.entered.wait(30)  # the slow function is importing now, and stays there
    quick = create_from_zip(sdk, {"handler.py": HANDLER.decode()}, name="quick")
    assert quick.status == "Ready" and quick.call().get_response() == "ok"
    assert not results  # the slow one is still deploying
    gate.release.set()
    slow.join(30)
    (slow_fn,) = results
    assert slow_fn.status == "Ready" and slow_fn.call().get_response() == "slow"  # type: ignore[attr-defined]


@pytest.mark.functions_emulator(timeout=0.2)
def test_an_import_that_never_finishes_is_a_failed_function(
    emu: FunctionsEmulator, sdk: CogniteClient, gate: types.ModuleType
) -> None:
    fn = create_from_zip(sdk, {"handler.py": SLOW}, name="stuck")  # the gate stays shut
    assert fn.status == "Failed"
    assert fn.error["message"] == "Importing handler.py did not finish within 0.2 seconds"
    ok = create_from_zip(sdk, {"handler.py": HANDLER.decode()}, name="after")
    assert ok.status == "Ready"


AT_IMPORT = (
    "import os\n"
    "API_URL = os.environ['API_URL']  # read when the module is imported, as many handlers do\n"
    "CONFIG = open('config.txt').read()  # relative to the function's folder\n"
    "def handle():\n"
    "    return [API_URL, CONFIG]\n"
)


def test_the_import_sees_the_functions_env_vars_and_folder(
    emu: FunctionsEmulator, sdk: CogniteClient
) -> None:
    before = os.getcwd()
    fn = create_from_zip(
        sdk, {"handler.py": AT_IMPORT, "config.txt": "shipped"}, env_vars={"API_URL": "https://x"}
    )
    assert fn.status == "Ready", fn.error
    assert fn.call().get_response() == ["https://x", "shipped"]
    assert "API_URL" not in os.environ and os.getcwd() == before
