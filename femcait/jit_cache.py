"""Compiled forms shared by processes that start together.

DOLFINx compiles each form once into a cache that all processes share: the first process
claims a form, the others wait for it to finish. They wait only 10 s by default, so a
process that starts while another compiles a large form (a D(n) table of thousands of
rows takes a minute), or on a busy node, failed. femcait waits up to `WAIT_S`.
"""

from __future__ import annotations

WAIT_S = 600
"""How long a process waits for a form another process is compiling, in s."""


def wait_for_other_compilers(seconds: int = WAIT_S) -> None:
    """Let form compilation wait up to ``seconds`` for another process's compilation (a
    longer wait set in DOLFINx's option files stays)."""
    import dolfinx.jit

    value, description = dolfinx.jit.DOLFINX_DEFAULT_JIT_OPTIONS["timeout"]
    dolfinx.jit.DOLFINX_DEFAULT_JIT_OPTIONS["timeout"] = (max(int(value), seconds), description)
