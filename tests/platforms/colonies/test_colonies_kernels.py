"""Several notebook kernels on one colony, as `binder/start` runs them: real kernels, one folder, one server.

Each kernel is an executor of its own (``NOTEBOOK-KERNELID-TYPE``), a submission goes to the executors
serving its function, a cleanly stopped kernel leaves the colony, and a killed kernel's executor, which
the server keeps, takes none of the work meant for its successor.
"""
from __future__ import annotations

import ast
import os
import re
import signal

import pytest
from colonies_harness import executor_names
from notebook_kernel import NotebookKernel
from processes import alive
from support import wait_until

#: what a kernel must not inherit from the test's environment: it names its own executor and journal
CLEAN = ("COLONIES_EXECUTOR_NAME", "COLONIES_PRVKEY", "POLYNB_JOURNAL_DIR", "POLYNB_CONFIG")


@pytest.fixture
def kernels(server, monkeypatch):
    for name, value in {**server.env_vars(), "POLYNB_COLONIES_ASSIGN_TIMEOUT": "2"}.items():
        monkeypatch.setenv(name, value)
    started: list[NotebookKernel] = []
    yield started
    for kernel in started:
        kernel.stop()


def serving(kernels: list, folder, notebook: str, funcname: str) -> NotebookKernel:
    """A kernel of ``notebook`` that serves ``funcname`` (which answers with its name and the kernel's pid)."""
    kernel = NotebookKernel(folder, notebook, clean_env=CLEAN)
    kernels.append(kernel)
    kernel.ok("%load_ext polynb\nimport polynb")
    kernel.ok(f"%%colonies_func {funcname}\nimport os\n\ndef {funcname}():\n    return ['{funcname}', os.getpid()]")
    return kernel


def submit_from(kernel: NotebookKernel, funcname: str) -> list:
    """What ``submit(..., wait=True)`` returned in the kernel (a failure fails the test with its message)."""
    shown = kernel.ok(f"print(repr(polynb.colonies.submit({funcname!r}, wait=True, follow=False, timeout=60)))")
    return ast.literal_eval(shown.strip().splitlines()[-1])


def test_kernels_of_one_folder_are_executors_of_their_own_and_serve_only_their_functions(kernels, server, tmp_path):
    left = serving(kernels, tmp_path, "left.ipynb", "left")
    right = serving(kernels, tmp_path, "right.ipynb", "right")
    left_pid, right_pid = (kernel.value("__import__('os').getpid()") for kernel in (left, right))
    names = executor_names(server)
    assert [n for n in names if re.fullmatch(r"left-[0-9a-f]{8}-polynb", n)]
    assert [n for n in names if re.fullmatch(r"right-[0-9a-f]{8}-polynb", n)]
    for _ in range(3):  # each function runs where it is served, never failed as unknown by the other kernel
        assert submit_from(left, "right") == ["right", right_pid]
        assert submit_from(right, "left") == ["left", left_pid]


def test_a_killed_kernels_executor_stays_registered_but_its_successor_gets_the_work(kernels, server, tmp_path):
    asker = serving(kernels, tmp_path, "asker.ipynb", "asker")
    first = serving(kernels, tmp_path, "worker.ipynb", "work")
    dead_name = next(n for n in executor_names(server) if n.startswith("worker-"))
    first_pid = first.value("__import__('os').getpid()")
    os.kill(first_pid, signal.SIGKILL)  # no clean stop: the server keeps the executor
    wait_until(lambda: not alive(first_pid), 30, "the killed kernel gone")
    second = serving(kernels, tmp_path, "worker.ipynb", "work")
    second_pid = second.value("__import__('os').getpid()")
    assert dead_name in executor_names(server)
    for _ in range(3):
        assert submit_from(asker, "work") == ["work", second_pid]


def test_a_cleanly_stopped_kernel_leaves_the_colony_and_the_notebooks_second_run_serves(kernels, server, tmp_path):
    asker = serving(kernels, tmp_path, "asker2.ipynb", "asker2")
    first = serving(kernels, tmp_path, "again.ipynb", "again")
    first_name = next(n for n in executor_names(server) if n.startswith("again-"))
    kernels.remove(first)
    first.stop()
    assert first_name not in executor_names(server)
    second = serving(kernels, tmp_path, "again.ipynb", "again")
    assert submit_from(asker, "again") == ["again", second.value("__import__('os').getpid()")]
