"""`python -m sfumato.core.cli` runs the `sfumato` command line."""

import sys

from sfumato.core.cli import main

if __name__ == "__main__":
    sys.exit(main())
