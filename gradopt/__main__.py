"""``python -m gradopt`` runs the ``gradopt`` command."""

import sys

from gradopt.cli import main

if __name__ == "__main__":
    sys.exit(main())
