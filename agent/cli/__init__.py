"""The `robot-agent` command and what only it runs: the remote commands over MQTT, `doctor`,
`safe-outputs` after the daemon has exited, and systemd's notify and watchdog.

May import everything, the daemon included.
"""

from agent.cli.main import main

__all__ = ["main"]
