"""The limits of grading, in one place: the CLI's defaults, a worker's spec and the session read them here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Options:
    """Limits of one notebook's grading (the CLI exposes the usual ones; its defaults are these)."""

    cell_timeout: float = 120.0  # seconds per exercise or locked cell run in the worker
    deadline: float = 600.0  # seconds per notebook
    call_cap: float | None = None  # cap on every call into student code (None: the check's own limit)
    memory: int = 4 << 30  # address space of the worker beyond what PyTorch maps, bytes
    file_bytes: int = 64 << 20
    scratch_bytes: int = 256 << 20
    max_processes: int = 64
    output_cap: int = 64 << 10  # bytes of a notebook's output kept for the log
    max_restarts: int = 4
    namespaces: bool = True
    landlock: bool = True
    scratch_root: str | None = None

    def worker_spec(self, scratch: str, read: list[str], env: dict[str, str]) -> dict:
        """What the zygote needs to start one notebook's worker under these limits."""
        return {
            "scratch": scratch,
            "memory": self.memory,
            "file_bytes": self.file_bytes,
            "scratch_bytes": self.scratch_bytes,
            "cpu_seconds": int(self.deadline) + 60,
            "max_processes": self.max_processes,
            "output_cap": self.output_cap,
            "namespaces": self.namespaces,
            "landlock": self.landlock,
            "read": read,
            "env": env,
        }


DEFAULTS = Options()
