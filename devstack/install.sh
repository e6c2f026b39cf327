#!/usr/bin/env bash
# Install what `make demo` and `make test` need on Debian 12: Debian packages, the Python virtual
# environment, the dev OpenID Connect provider's npm packages; and make sure PostgreSQL and Redis
# answer on 127.0.0.1. Idempotent and quick when everything is present (each step checks first),
# never prompts, and downloads only from the package registries (never `playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(slapd ldap-utils openssl samba samba-dsdb-modules samba-vfs-modules samba-ad-provision chromium)
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
  command -v node >/dev/null && command -v npm >/dev/null \
    || fail "Node.js >= 20.18 and npm are required for the dev OpenID Connect provider"
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)' \
    || fail "Node.js $(node --version) is too old for oidc-provider 9: need >= 20.18"
  local stamp=$OIDC_DIR/node_modules/.package-lock.sha256
  if [ "$(cat "$stamp" 2>/dev/null)" != "$(hash_of $OIDC_DIR/package-lock.json)" ]; then
    say "npm ci in $OIDC_DIR"
    (cd "$OIDC_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    hash_of $OIDC_DIR/package-lock.json > "$stamp"
  fi
}

ensure_postgresql() {
  answers 5432 && return
  say "starting PostgreSQL"
  [ -d /etc/postgresql ] || fail "PostgreSQL is not installed"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  wait_until_answers PostgreSQL 5432
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

install_debian_packages
install_python_venv
install_oidc_provider
ensure_postgresql
ensure_redis
say "everything is in place"
