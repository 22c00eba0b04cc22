"""``python -m neurocomp``: the ``neurocomp`` command (see :mod:`neurocomp.cli`)."""

import sys

from neurocomp.cli import main

if __name__ == "__main__":
    sys.exit(main())
