"""`python -m bot.backend …`: the `tuanbot backend` command on its own."""

import sys

from bot.cli.backend import main

sys.exit(main())
