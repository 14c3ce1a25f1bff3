"""Allow ``python -m smartfactory_lib.cli``."""

import sys

from . import main

sys.exit(main())
