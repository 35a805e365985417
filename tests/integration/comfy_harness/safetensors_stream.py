"""Write a safetensors file tensor by tensor, so a model larger than memory never exists whole.

``safetensors.torch.save_file`` takes every tensor at once (and copies each to bytes): for the 5.7 B
parameter UMT5-XXL that is 6.7 GB held twice. Here the header is written from the tensors' planned keys,
shapes and dtypes, then each tensor's data is produced in blocks of rows and written as it comes, so the
peak is one block. The layout is the safetensors format: an 8-byte little-endian header size, a JSON
header (padded with spaces to 8 bytes) with each tensor's dtype, shape and byte offsets, then the data.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

BLOCK_ELEMENTS = 1 << 24  # at most 16 M elements (64 MB in fp32) are produced at once
SAFETENSORS_DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float8_e4m3fn: "F8_E4M3",
    torch.uint8: "U8",
}


@dataclass(frozen=True)
class PlannedTensor:
    """A tensor to write: ``block(first_row, rows)`` returns rows ``[first_row, first_row + rows)``."""

    key: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    block: Callable[[int, int], torch.Tensor]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def blocks(self) -> Iterator[torch.Tensor]:
        """The tensor's rows in blocks of at most ``BLOCK_ELEMENTS`` elements (a scalar is one block)."""
        rows = self.shape[0] if self.shape else 1
        per_row = max(1, math.prod(self.shape[1:]))
        step = max(1, BLOCK_ELEMENTS // per_row)
        for first in range(0, rows, step):
            yield self.block(first, min(step, rows - first))


def constant(key: str, value: torch.Tensor) -> PlannedTensor:
    """A tensor given in full (scales, markers, a tokenizer model)."""
    value = value.contiguous()

    def block(first: int, rows: int) -> torch.Tensor:
        return value[first:first + rows] if value.dim() else value

    return PlannedTensor(key, tuple(value.shape), value.dtype, block)


def write_safetensors(path: Path, tensors: list[PlannedTensor], metadata: dict[str, str]) -> None:
    """Write ``tensors`` to ``path`` in order; raises ``ValueError`` if a block has the wrong dtype or size."""
    header: dict[str, object] = {}
    offset = 0
    for tensor in tensors:
        header[tensor.key] = {
            "dtype": SAFETENSORS_DTYPES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + tensor.nbytes],
        }
        offset += tensor.nbytes
    header["__metadata__"] = metadata
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with path.open("wb") as file:
        file.write(struct.pack("<Q", len(encoded)))
        file.write(encoded)
        for tensor in tensors:
            written = 0
            for block in tensor.blocks():
                if block.dtype != tensor.dtype:
                    raise ValueError(f"{tensor.key}: a block is {block.dtype}, planned {tensor.dtype}")
                data = block.contiguous().reshape(-1).view(torch.uint8).numpy()
                file.write(data.data)
                written += data.nbytes
            if written != tensor.nbytes:
                raise ValueError(f"{tensor.key}: wrote {written} bytes, planned {tensor.nbytes}")
