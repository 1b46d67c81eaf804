"""ColonyOS: notebook cells as Colonies functions (``%%colonies_func``), submissions (``%colonies_submit``).

The folder splits like the other platforms: :mod:`.crypto` and :mod:`.wire` (pure), :mod:`.client`,
:mod:`.binding` (polynb as a Colonies executor) with :mod:`.executor` (one executor's assign loops),
:mod:`.submit` and :mod:`.view` (polynb as a submitter), :mod:`.server` with :mod:`.rules` and :mod:`.store`
(the local server) and :mod:`.standin` (``polynb up colonies``), :mod:`.settings`, :mod:`.magics` and :mod:`.api`.
"""
from __future__ import annotations

from ..base import Platform, UpOption
from .binding import ColoniesBinding
from .magics import ColoniesMagics
from .settings import ColoniesSettings
from .standin import LocalColonies

PLATFORM = Platform(name="colonies", title="ColonyOS", binding=ColoniesBinding, settings=ColoniesSettings,
                    magics=ColoniesMagics, stand_in=LocalColonies,
                    up_options=(UpOption("--dev-keys", "POLYNB_COLONIES_DEV_KEYS",
                                         "ColonyOS: use the public development keys of the Colonies docs", "switch"),),
                    client_env=lambda info: info["env"])
