"""``python -m eocic``: the same as the ``eocic`` command."""

import sys

from eocic.cli import main

sys.exit(main())
