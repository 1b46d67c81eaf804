"""Regenerates ``gen/`` from the protocol's .proto files beside this script.

Run from the project root:  ``.venv/bin/python -m polynb.platforms.cloudstate.protos.generate``
(it calls ``python -m grpc_tools.protoc -I protos --python_out=gen --pyi_out=gen --grpc_python_out=gen`` on
the three protocol files, then makes the generated imports point into this package). The ``.pyi`` stubs are
what mypy reads: the generated modules build their classes at import time, invisible to a type checker.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATED = HERE / "gen"
PROTOCOL = ["cloudstate/entity.proto", "cloudstate/event_sourced.proto", "cloudstate/crdt.proto"]
PACKAGE = "polynb.platforms.cloudstate.protos.gen"


def main() -> int:
    GENERATED.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{HERE}", f"--python_out={GENERATED}",
                    f"--pyi_out={GENERATED}", f"--grpc_python_out={GENERATED}", *PROTOCOL], check=True)
    folder = GENERATED / "cloudstate"
    for module in [*folder.glob("*.py"), *folder.glob("*.pyi")]:
        text = re.sub(r"^from cloudstate import", f"from {PACKAGE}.cloudstate import", module.read_text(), flags=re.M)
        module.write_text(text)
    for folder in (GENERATED, GENERATED / "cloudstate"):
        (folder / "__init__.py").touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
