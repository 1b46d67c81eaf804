"""An in-process IPython shell with polynb loaded, for the tests of magics."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from IPython.testing import globalipapp


@contextlib.contextmanager
def polynb_shell(forget: tuple[str, ...] = ()) -> Iterator:
    """The test-wide IPython shell with ``%load_ext polynb``; unloads it and drops ``forget`` afterwards."""
    shell = globalipapp.start_ipython() or globalipapp.get_ipython()
    shell.run_line_magic("load_ext", "polynb")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "polynb")
        for name in forget:
            shell.user_ns.pop(name, None)


def run(shell, source: str):
    """Run a cell the way the kernel does and raise what it raised."""
    result = shell.run_cell(source)
    if result.error_in_exec or result.error_before_exec:
        raise result.error_in_exec or result.error_before_exec
    return result.result
