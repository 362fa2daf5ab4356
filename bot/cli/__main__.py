"""`python -m bot.cli …`: the `tuanbot` command."""

import sys

from bot.cli import main

sys.exit(main())
