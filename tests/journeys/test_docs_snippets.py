"""Every Python block of README.md and the platform pages under docs/ runs as written, in order, in a real kernel
against the local stand-ins: what a reader copies into a notebook works."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from notebook_kernel import NotebookKernel
from notebook_shell import polynb_shell

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
PLATFORM_VARIABLES = ("KGRID_", "VANTIQ_", "CONNECTOR_AUTH_TOKEN", "COLONIES_", "KAI_", "CLOUDSTATE_", "PORT", "HOST",
                      "POLYNB_")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def cells(document: str) -> list[str]:
    """The document's ```python blocks: each is one notebook cell."""
    return [body for language, body in FENCE.findall((ROOT / document).read_text()) if language in ("python", "ipython")]


def test_the_readme_magics_table_lists_every_magic_polynb_registers():
    with polynb_shell() as shell:
        registered = {name for kind in ("line", "cell") for name, fn in shell.magics_manager.magics[kind].items()
                      if type(getattr(fn, "__self__", None)).__module__.startswith("polynb")}
    table = "\n".join(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `%"))
    missing = sorted(name for name in registered if not re.search(rf"`%%?{name}\b", table))
    assert registered and not missing, f"the magics table of README.md does not list {missing}"


def test_the_example_platform_of_docs_platforms_is_the_fake_platform_the_core_is_tested_with():
    assert cells("docs/platforms.md") == [(ROOT / "tests" / "fakeplatform.py").read_text()]


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if cells(d)])
def test_every_python_block_runs_as_written(document, tmp_path):
    kernel = NotebookKernel(tmp_path, "snippets.ipynb", clean_env=PLATFORM_VARIABLES)
    try:
        for number, cell in enumerate(cells(document), 1):
            content, shown = kernel.run(cell, timeout=240)
            assert content["status"] == "ok", f"{document}, block {number}:\n{cell}\n---\n{shown}"
    finally:
        kernel.stop()
