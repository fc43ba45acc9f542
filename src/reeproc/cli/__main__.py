"""``python -m reeproc.cli``: the ``reeproc`` command."""
import sys

from . import main

sys.exit(main())
