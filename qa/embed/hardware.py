"""What this machine computes fast, asked of it at run time: the CPU's flags, torch's CUDA devices.

bfloat16 halves the work of a transformer only where the CPU multiplies bfloat16 matrices in
hardware: Intel AMX (`amx_bf16`). AVX512-BF16 alone is not enough: on a 2-core Xeon with
`avx512_bf16` and no AMX (oneDNN's ISA "Intel AVX 10.1"), MiniLM encoded at 0.66-0.70x float32 in
bfloat16 and e5 at 0.53x (bench/speed.py). On a CPU with AMX, bfloat16 was measured at about twice
float32. So indexes are encoded in bfloat16 where the CPU has AMX, float32 elsewhere; QA_PRECISION
(`float32` or `bfloat16`) overrides the choice. On a CUDA GPU (QA_DEVICE, `--device`) the weights
are float16.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from qa.documents import QAError

FLOAT32, BFLOAT16 = "float32", "bfloat16"
CPUINFO = Path("/proc/cpuinfo")


@functools.cache
def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where they cannot be read."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return frozenset()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def precision(flags: frozenset[str] | None = None) -> str:
    """The precision to encode an index in: QA_PRECISION if set, else bfloat16 on AMX, float32."""
    wanted = os.environ.get("QA_PRECISION", "").strip().lower()
    if wanted:
        if wanted not in (FLOAT32, BFLOAT16):
            raise QAError(f"QA_PRECISION is {FLOAT32} or {BFLOAT16}, not {wanted!r}")
        return wanted
    return BFLOAT16 if "amx_bf16" in (cpu_flags() if flags is None else flags) else FLOAT32


CPU, CUDA = "cpu", "cuda"


def device() -> str:
    """Where to encode: QA_DEVICE (`auto`, `cpu`, `cuda` or `cuda:N`; `qa build --device` sets it),
    by default a CUDA GPU when torch sees one, else the CPU. Imports torch."""
    wanted = os.environ.get("QA_DEVICE", "").strip().lower() or "auto"
    if wanted not in ("auto", CPU) and not (wanted == CUDA or wanted.startswith(CUDA + ":")):
        raise QAError(f"--device is auto, cpu or cuda, not {wanted!r}")
    if wanted == CPU:
        return CPU
    import torch

    if torch.cuda.is_available():
        return CUDA if wanted == "auto" else wanted
    if wanted == "auto":
        return CPU
    raise QAError(f"--device {wanted}: torch sees no CUDA device here (torch {torch.__version__})")


def device_dtype(where: str):
    """The weights' type on a device: float16 on a GPU (its tensor cores), float32 on the CPU
    (where bfloat16 is autocast per batch instead, see precision())."""
    import torch

    return torch.float16 if where.startswith(CUDA) else None
