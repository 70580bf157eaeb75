"""``python -m tunelens.cli``: the same as the ``tunelens`` command, exit code included."""

import sys

from tunelens.cli.app import main

sys.exit(main())
