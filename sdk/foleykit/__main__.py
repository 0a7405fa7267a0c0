"""``python -m foleykit`` runs the ``foleykit`` command."""
import sys

from .cli import main

sys.exit(main())
