"""`python -m bot.backend …`: the `tuanbot backend` command on its own."""

import sys

from bot.backend.cli import main

sys.exit(main())
