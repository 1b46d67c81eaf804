"""ColonyOS: notebook cells as Colonies functions (``%%colonies_func``), submissions (``%colonies_submit``).

The folder splits like the other platforms: :mod:`.crypto` and :mod:`.wire` (pure), :mod:`.client`,
:mod:`.executor` (the binding: polynb as a Colonies executor), :mod:`.submit` (polynb as a submitter),
:mod:`.rules`, :mod:`.store` and :mod:`.local` (the local server), and :mod:`.magics`.
"""
from __future__ import annotations

from ..base import Platform, UpOption
from .executor import ColoniesBinding
from .local import LocalColonies
from .magics import ColoniesMagics
from .settings import SETTINGS

PLATFORM = Platform(name="colonies", title="ColonyOS", binding=ColoniesBinding, settings=SETTINGS,
                    magics=ColoniesMagics, stand_in=LocalColonies,
                    up_options=(UpOption("--dev-keys", "POLYNB_COLONIES_DEV_KEYS",
                                         "ColonyOS: use the public development keys of the Colonies docs", "switch"),),
                    client_env=lambda info: info["env"])
