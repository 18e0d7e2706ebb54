"""`python -m agent.interpret`: the model worker process (agent.interpret._worker)."""

import sys

from agent.interpret._worker import main

if __name__ == "__main__":
    sys.exit(main())
