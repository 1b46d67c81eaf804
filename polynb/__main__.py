"""``python -m polynb`` is the ``polynb`` command."""
import sys

from .cli import main

sys.exit(main())
