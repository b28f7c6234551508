"""`python -m imagenets_hf ...` is the `imagenets-hf` command."""

import sys

from .cli import main

sys.exit(main())
