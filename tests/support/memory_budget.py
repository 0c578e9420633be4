"""A device with little memory, simulated on the CPU: an allocation hook that counts the bytes of every
tensor torch makes while it is installed, forgets them when the tensor is freed, and raises the
out-of-memory error a GPU backend raises when the live total would pass a budget."""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


def cuda_out_of_memory(wanted: int) -> BaseException:
    return torch.cuda.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {wanted} bytes")


def mps_out_of_memory(wanted: int) -> BaseException:
    return RuntimeError(f"MPS backend out of memory (MPS allocated: {wanted} bytes). Tried to allocate")


class MemoryBudget(TorchDispatchMode):
    """Install with `with MemoryBudget(limit):`. `limit=None` only measures: `peak` is then the most
    bytes that were live at once. `live` counts what is still held now."""

    def __init__(self, limit: int | None = None, error: Any = cuda_out_of_memory) -> None:
        super().__init__()
        self.limit = limit
        self.error = error
        self.live = 0
        self.peak = 0
        self.refused = 0  # allocations refused

    def _forget(self, size: int) -> None:
        self.live -= size

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        result = func(*args, **(kwargs or {}))
        made = [t for t in tree_leaves(result) if isinstance(t, torch.Tensor)]
        inputs = {id(t) for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        size = sum(t.numel() * t.element_size() for t in made if id(t) not in inputs)
        if self.limit is not None and self.live + size > self.limit:
            self.refused += 1
            raise self.error(size)
        for tensor in made:
            if id(tensor) not in inputs:
                each = tensor.numel() * tensor.element_size()
                self.live += each
                weakref.finalize(tensor, self._forget, each)
        self.peak = max(self.peak, self.live)
        return result
