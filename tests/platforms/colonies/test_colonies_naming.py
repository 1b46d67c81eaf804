"""Executor names: the kernel's own, or the notebook's where the colony owner approves executors by hand."""
from __future__ import annotations

import re
from pathlib import Path

from polynb.platforms.colonies.naming import executor_name, kernel_id


def test_a_kernels_executor_is_named_after_its_notebook_its_kernel_and_its_type():
    name = executor_name("polynb", notebook=Path("/work/notebooks/colonies.ipynb"))
    assert re.fullmatch(r"colonies-[0-9a-f]{8}-polynb", name) and kernel_id() in name


def test_the_kernel_part_stays_for_as_long_as_the_kernel_runs():
    assert executor_name("t", notebook=Path("a.ipynb")) == executor_name("t", notebook=Path("a.ipynb"))


def test_without_the_kernel_part_the_name_is_the_notebooks_for_every_kernel_of_it():
    assert executor_name("gpu", per_kernel=False, notebook=Path("/x/My Notebook (2).ipynb")) == "My_Notebook_2-gpu"


def test_outside_jupyter_polynb_stands_for_the_notebook(monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert executor_name("polynb", per_kernel=False) == "polynb-polynb"
