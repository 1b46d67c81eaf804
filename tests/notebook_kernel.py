"""A real IPython kernel driven over ZeroMQ by jupyter_client, as JupyterLab drives it, for the tests."""
from __future__ import annotations

import ast
import os
from pathlib import Path

from jupyter_client.manager import KernelManager


class NotebookKernel:
    """A kernel whose working folder and session path are those of a notebook in ``folder``.

    ``clean_env`` names environment variables (or prefixes ending in ``_``) the kernel must not inherit,
    so that a test's platform runs on its local stand-in.
    """

    def __init__(self, folder: Path, notebook: str = "demo.ipynb", clean_env: tuple[str, ...] = ()) -> None:
        env = {key: value for key, value in os.environ.items()
               if not any(key == name or (name.endswith("_") and key.startswith(name)) for name in clean_env)}
        env["JPY_SESSION_NAME"] = str(folder / notebook)
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(folder), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 180) -> tuple[dict, str]:
        """The execute reply's content and everything the cell printed or displayed as text."""
        outputs: list[dict] = []
        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
        return reply["content"], "".join(_as_text(message["content"]) for message in outputs)

    def ok(self, code: str, timeout: float = 180) -> str:
        """Run a cell that must succeed; what it showed."""
        content, text = self.run(code, timeout)
        assert content["status"] == "ok", text or content
        return text

    def value(self, expression: str):
        """A Python literal evaluated in the kernel."""
        reply = self.client.execute_interactive("", user_expressions={"v": expression}, timeout=60)
        return ast.literal_eval(reply["content"]["user_expressions"]["v"]["data"]["text/plain"])

    def restart(self) -> None:
        self.manager.restart_kernel(now=True)
        self.client.wait_for_ready(timeout=60)

    def stop(self) -> None:
        """Stop polynb first (its stand-ins with it), then the kernel."""
        if self.manager.is_alive():
            self.run("import polynb; polynb.shutdown()", timeout=60)
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def _as_text(content: dict) -> str:
    if "text" in content:  # a stream: its own newlines
        return content["text"]
    shown = content.get("data", {}).get("text/plain") or "\n".join(content.get("traceback", []))
    return shown + "\n" if shown else ""
