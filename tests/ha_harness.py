"""A real, headless Home Assistant for the end-to-end discovery test (stdlib only).

Home Assistant needs a newer Python than the project's: it runs as a subprocess from its own
venv (scripts/setup-ha). What it takes to start it here with no network and no UI, as found
when this was built:
- `hass --skip-pip`: without it Home Assistant tries to pip-install its MFA modules' packages
  at start and, offline, gives up initialising. Every package it needs is in the venv instead
  (scripts/ha-requirements.txt), the frontend included: without it Home Assistant starts in
  recovery mode and loads no config entries;
- a fixed core config (no location detection) and http on 127.0.0.1 on a free port;
- a user and a token from the onboarding API (no UI), then the MQTT integration through its
  real config flow over REST, which connects to the broker; discovery is on by default.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 180.0  # Home Assistant starts in 3-6 s here; a loaded CI machine is slower


class HomeAssistant:
    def __init__(self, venv: Path, workdir: Path, broker_port: int, http_port: int) -> None:
        self.hass = venv / "bin" / "hass"
        self.config_dir = workdir / "ha-config"
        self.log = workdir / "hass.log"
        self.broker_port = broker_port
        self.base = f"http://127.0.0.1:{http_port}"
        self.http_port = http_port
        self.token = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.config_dir.mkdir(parents=True)
        (self.config_dir / "configuration.yaml").write_text(
            "homeassistant:\n  name: ci\n  latitude: 0\n  longitude: 0\n  elevation: 0\n"
            "  unit_system: metric\n  time_zone: UTC\n  country: DE\n  currency: EUR\n"
            f"  internal_url: {self.base}\n"
            f"http:\n  server_host: 127.0.0.1\n  server_port: {self.http_port}\n"
            "api:\nconfig:\nonboarding:\n"
            "logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: debug\n")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.hass), "-c", str(self.config_dir), "--skip-pip", "--log-no-color"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait("the HTTP API", lambda: self._get_status("/api/onboarding") == 200)
        self._onboard()
        self._wait("the core to run", lambda: self.request("GET", "/api/config")[1].get(
            "state") == "RUNNING")
        self._add_mqtt()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # ---- REST --------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, form: bool = False,
                timeout: float = 15) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode(errors="replace")

    def states(self) -> list[dict[str, Any]]:
        status, states = self.request("GET", "/api/states")
        assert status == 200, states
        return list(states)

    def state(self, entity_id: str) -> dict[str, Any] | None:
        status, state = self.request("GET", f"/api/states/{entity_id}")
        return state if status == 200 else None

    def call(self, domain: str, service: str, data: dict[str, Any]) -> None:
        status, body = self.request("POST", f"/api/services/{domain}/{service}", data)
        assert status == 200, f"{domain}.{service}: {status} {body}"

    def entities(self, device: str, names: set[str], timeout: float = 30) -> dict[str, str]:
        """Wait until the device's entities with these names exist and are available; returns
        name -> entity_id (Home Assistant names an entity "<device> <name>")."""
        found: dict[str, str] = {}

        def ready() -> bool:
            found.clear()
            for state in self.states():
                friendly = str(state["attributes"].get("friendly_name", ""))
                name = friendly.removeprefix(f"{device} ")
                if friendly.startswith(f"{device} ") and name in names and \
                        state["state"] != "unavailable":
                    found[name] = state["entity_id"]
            return len(found) == len(names)

        self._wait(f"entities {sorted(names)} (found {sorted(found)})", ready, timeout)
        return dict(found)

    def wait_state(self, entity_id: str, want: str, timeout: float = 20) -> dict[str, Any]:
        seen: list[dict[str, Any] | None] = [None]

        def reached() -> bool:
            seen[0] = self.state(entity_id)
            return seen[0] is not None and seen[0]["state"] == want

        try:
            self._wait(f"{entity_id} to be {want!r}", reached, timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"{entity_id} is {seen[0]}, not {want!r}") from exc
        assert seen[0] is not None
        return seen[0]

    # ---- setting up --------------------------------------------------------------------------

    def _get_status(self, path: str) -> int:
        try:
            return self.request("GET", path, timeout=2)[0]
        except OSError:
            return 0

    def _wait(self, what: str, ready: Any, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"hass exited ({self.proc.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}:\n{self.log_tail()}")
            time.sleep(0.2)

    def _onboard(self) -> None:
        client_id = f"{self.base}/"
        status, body = self.request("POST", "/api/onboarding/users", {
            "client_id": client_id, "name": "ci", "username": "ci",
            "password": "ci-password-not-secret", "language": "en"})
        assert status == 200, body
        status, token = self.request("POST", "/auth/token", {
            "grant_type": "authorization_code", "code": body["auth_code"],
            "client_id": client_id}, form=True)
        assert status == 200, token
        self.token = token["access_token"]

    def _add_mqtt(self) -> None:
        status, flow = self.request("POST", "/api/config/config_entries/flow",
                                    {"handler": "mqtt", "show_advanced_options": False})
        assert status == 200 and flow.get("step_id") == "broker", flow
        status, done = self.request("POST", f"/api/config/config_entries/flow/{flow['flow_id']}",
                                    {"broker": "127.0.0.1", "port": self.broker_port}, timeout=30)
        assert status == 200 and done.get("type") == "create_entry", done
        assert done["result"].get("state") == "loaded", done
