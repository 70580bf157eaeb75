"""The ``tunelens`` command line (:mod:`tunelens.cli.app` assembles it).

faiss logs each CPU build it tries while it is imported ("Could not load library with AVX512
support…", INFO) — noise before anything useful whenever logging is already set up. Its logger
is held at WARNING here, before any command module imports it.
"""

import logging

logging.getLogger("faiss").setLevel(logging.WARNING)
