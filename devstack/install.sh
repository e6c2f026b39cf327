#!/usr/bin/env bash
# Install what `make demo` needs on Debian 12 (`install.sh demo`, the default), or what `make test`
# needs as well (`install.sh test`): Debian packages, the Python virtual environment, the dev OpenID
# Connect provider's npm packages (which bring their own Node.js 22 from the npm registry: Debian 12's
# nodejs is 18, too old for oidc-provider 9, but its npm can install it); for the tests, PostgreSQL,
# Redis (answering on 127.0.0.1) and nginx (run in user space by tests/deploy) installed from Debian
# when missing (the demo runs on SQLite and in-process limits). Idempotent and quick when everything
# is present (each step checks first), never prompts, and downloads only from the package registries
# (never `playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-demo}
PACKAGES=(slapd ldap-utils openssl samba samba-dsdb-modules samba-vfs-modules samba-ad-provision chromium)
[ "$MODE" = test ] && PACKAGES+=(postgresql redis-server nginx)
case "$MODE" in demo|test) ;; *) echo "usage: install.sh [demo|test]" >&2; exit 2 ;; esac
[ "$MODE" = test ] && PACKAGES+=(systemd)  # systemd-analyze, for tests/deploy/test_systemd.py
OIDC_DIR=devstack/oidc
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

say() { echo "install: $*"; }
fail() { echo "install: $*" >&2; exit 1; }

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_until_answers() {
  local name=$1 port=$2
  for _ in $(seq 50); do answers "$port" && return 0; sleep 0.2; done
  fail "$name does not answer on 127.0.0.1:$port"
}

install_debian_packages() {
  local missing=() package
  # Any Node.js with npm will do (Debian's or another source's): npm brings the one the provider runs on.
  command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_python_venv() {
  local stamp=.venv/.requirements.sha256
  [ -x .venv/bin/python ] || { say "creating .venv"; python3 -m venv .venv; }
  if [ "$(cat "$stamp" 2>/dev/null)" != "$(hash_of requirements.txt)" ]; then
    say "pip install -r requirements.txt"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
    hash_of requirements.txt > "$stamp"
  fi
}

install_oidc_provider() {
  local stamp=$OIDC_DIR/node_modules/.package-lock.sha256
  if [ "$(cat "$stamp" 2>/dev/null)" != "$(hash_of $OIDC_DIR/package-lock.json)" ]; then
    say "npm ci in $OIDC_DIR"
    (cd "$OIDC_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    hash_of $OIDC_DIR/package-lock.json > "$stamp"
  fi
  "$OIDC_DIR/node_modules/.bin/node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' \
    || fail "the Node.js in $OIDC_DIR/node_modules did not install; remove that folder and run make install again"
}

ensure_postgresql() {
  answers 5432 && return
  say "starting PostgreSQL"
  [ -d /etc/postgresql ] || fail "PostgreSQL is not installed"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  wait_until_answers PostgreSQL 5432
  ensure_test_database
}

ensure_redis() {
  answers 6379 && return
  say "starting Redis"
  command -v redis-server >/dev/null || fail "Redis is not installed"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_until_answers Redis 6379
}

# The tests use the database `test`, reached over TCP without a password, as this machine kind
# has it; a fresh Debian cluster gets the same (local connections only: it listens on loopback).
ensure_test_database() {
  local version hba
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba"; then
    say "PostgreSQL: trust for loopback TCP connections (tests only)"
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE test"
}

install_debian_packages
install_python_venv
install_oidc_provider
if [ "$MODE" = test ]; then
  ensure_postgresql
  ensure_redis
fi
say "everything is in place"
