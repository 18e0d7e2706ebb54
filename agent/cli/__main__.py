"""`python -m agent.cli`: the same as the `robot-agent` command."""

import sys

from agent.cli.main import main

sys.exit(main())
