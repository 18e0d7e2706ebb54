"""A copy of a config that talks to the broker on another port (scripts/sim --port N, when 1883
is taken by a broker of your own): the file is kept as it is, comments and all, except its
`[mqtt]` table's `port`; the copy is checked like any config before it is written.

    .venv/bin/python scripts/sim_config.py deploy/examples/rover.toml 1884 .state/sim.toml
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import ConfigError, load_config

TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
PORT = re.compile(r"^(\s*port\s*=\s*)\d+(.*)$", re.S)


def with_port(text: str, port: int) -> str:
    """The config text with `[mqtt] port = port`: replaced where it is, else added to the
    table (or a new table at the end)."""
    lines = text.splitlines(keepends=True)
    table = None
    mqtt_at = None
    for i, line in enumerate(lines):
        header = TABLE.match(line)
        if header:
            table = header.group(1).strip()
            if table == "mqtt":
                mqtt_at = i
            continue
        replaced = PORT.match(line)
        if table == "mqtt" and replaced:
            lines[i] = f"{replaced.group(1)}{port}{replaced.group(2)}"
            return "".join(lines)
    if mqtt_at is not None:
        lines.insert(mqtt_at + 1, f"port = {port}\n")
        return "".join(lines)
    return text + ("" if text.endswith("\n") else "\n") + f"\n[mqtt]\nport = {port}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path, help="the config to copy")
    parser.add_argument("port", type=int, help="the broker's port for the copy")
    parser.add_argument("out", type=Path, help="where to write the copy")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(with_port(args.config.read_text(encoding="utf-8"), args.port),
                        encoding="utf-8")
    try:
        port = load_config(args.out).mqtt.port
    except ConfigError as exc:
        print(f"sim_config: {exc}", file=sys.stderr)
        return 2
    if port != args.port:  # e.g. a dotted `mqtt.port = ...` this does not rewrite
        print(f"sim_config: could not set the port in {args.config}: set [mqtt] port = "
              f"{args.port} by hand", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
