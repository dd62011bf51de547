"""nftables through libnftables (ctypes on libnftables.so.1): one context per namespace.

A context opens its netlink socket when it is made, so a context made by a thread inside a
namespace edits that namespace's ruleset from then on, whichever thread calls it. `run()`
takes nft's own batch syntax (several commands, one transaction: all or nothing) and
`list()` answers with nft's JSON.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import threading

_OUTPUT_HANDLE = 1 << 3
_OUTPUT_JSON = 1 << 4


class NftError(RuntimeError):
    """nft refused a batch; the message is nft's own error text."""


@functools.cache
def _library() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("nftables") or "libnftables.so.1")
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
    return lib


def available() -> tuple[bool, str]:
    try:
        lib = _library()
    except OSError as exc:
        return False, f"libnftables.so.1 not found ({exc})"
    ctx = lib.nft_ctx_new(0)
    if not ctx:
        return False, "libnftables could not make a context"
    lib.nft_ctx_free(ctx)
    return True, ""


class Nft:
    """An nftables context bound to the namespace of the thread that made it."""

    def __init__(self) -> None:
        self._lib = _library()
        self._ctx = self._lib.nft_ctx_new(0)
        if not self._ctx:
            raise NftError("libnftables could not make a context")
        self._lib.nft_ctx_buffer_output(self._ctx)
        self._lib.nft_ctx_buffer_error(self._ctx)
        self._lock = threading.Lock()

    def run(self, batch: str) -> str:
        """Run `batch` (nft syntax, one transaction) and return nft's output."""
        with self._lock:
            self._lib.nft_ctx_output_set_flags(self._ctx, 0)
            return self._run(batch)

    def list(self, command: str) -> list[dict]:
        """The `nftables` array of nft's JSON answer to a list command."""
        with self._lock:
            self._lib.nft_ctx_output_set_flags(self._ctx, _OUTPUT_JSON | _OUTPUT_HANDLE)
            text = self._run(command)
        return json.loads(text).get("nftables", []) if text.strip() else []

    def _run(self, batch: str) -> str:
        rc = self._lib.nft_run_cmd_from_buffer(self._ctx, batch.encode())
        if rc != 0:
            error = (self._lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode()
            raise NftError(error.strip() or f"nft failed ({rc})")
        return (self._lib.nft_ctx_get_output_buffer(self._ctx) or b"").decode()

    def close(self) -> None:
        with self._lock:
            if self._ctx:
                self._lib.nft_ctx_free(self._ctx)
                self._ctx = None
