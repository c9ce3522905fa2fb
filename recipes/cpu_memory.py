"""glibc's malloc on a CPU run: freed tensors' memory kept for the next step, not handed back to the kernel.

A CPU decode step allocates and frees the same large tensors at every step: the 32 x 49k
logits (6 MB), their float64 softmax and cumulative sum (12 MB each), the attention's
scratch. glibc serves a block above its mmap threshold (128 KB, raised on the fly to at
most 32 MB) with fresh pages from the kernel and unmaps it on free, and it hands the
heap's free top back above its trim threshold; so every step pays page faults and page
zeroing for memory it held a moment before: about 10 ms of each ~130 ms decode step where a
process only generates (evaluation, the pre-flight; `make demo`: 2 min 34 s against 2 min 43 s).
Inside GRPO training it changed nothing measurable: by the first rollout the trainer's own
frees have lifted glibc's dynamic threshold, most likely to its 32 MB cap. Peak memory: no
change beyond its run-to-run spread (`make demo`: 7.2-10.9 GB with it, 9.7 without;
bench/NOTES.md, "The KV cache grown in place, and page faults").

PyTorch's own CPU launcher (``python -m torch.backends.xeon.run_cpu``) preloads tcmalloc or
jemalloc for this reason; neither comes from PyPI, and a preload must be set before Python
starts. Here the two glibc settings those allocators make moot are set from inside the
process, through ``mallopt`` (the standard library's ctypes): blocks up to 1 GiB come from
the heap (32 MB on a glibc that refuses more, as older ones do), and the heap keeps up to
256 MB of free top. It is process-wide and stays for the process's life, training included.
Where the C library is not glibc (macOS, musl) nothing changes. Allocation sizes and contents
are untouched: exact.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc malloc.h
MMAP_THRESHOLDS, TRIM_THRESHOLD = (1 << 30, 32 << 20), 256 << 20  # 32 MB: older glibc's largest


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds for this process (once); says whether both took."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - glibc only: other C libraries read mallopt's options otherwise
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mmap = any(mallopt(M_MMAP_THRESHOLD, value) for value in MMAP_THRESHOLDS)  # the first one it accepts
    trim = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return mmap and trim
