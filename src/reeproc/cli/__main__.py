"""``python -m reeproc.cli``: the ``reeproc`` command."""
from . import console

console()
