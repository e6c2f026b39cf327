#!/usr/bin/env bash
# Prove that a minimal, fresh Debian 12 installs and runs the demo with nothing done by hand.
#
#   bash devstack/fresh-debian.sh [WORKDIR]      (as root; about 5-10 minutes; not part of CI)
#
# It builds a minbase Debian 12 root with debootstrap, installs only git, make and python3 there
# (what a new admin's server has), clones this repository's committed HEAD into it, runs
# `make install`, then starts `make demo` inside a network namespace of its own (so the demo's fixed
# ports cannot meet this machine's) and checks what a person would see first: /readyz ready, and the
# sign-in link leading to the identity provider's real sign-in page. Then it stops the demo with
# Ctrl-C (SIGINT), checks that nothing it started is left running, and removes the root.
# The host's package sources, CA bundle and pip/npm settings are copied in, so the root reaches the
# same package registries the host does; nothing is downloaded from anywhere else.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/var/tmp/portal-fresh-debian}
ROOT=$WORK/root
NETNS=portal-fresh-$$
CA=/etc/ssl/certs/ca-certificates.crt

say() { echo "fresh-debian: $*"; }
fail() { echo "fresh-debian: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap, chroot and network namespaces need it)"

cleanup() {
  set +e
  ip netns pids "$NETNS" 2>/dev/null | xargs -r kill -9
  ip netns delete "$NETNS" 2>/dev/null
  for mount in dev sys proc; do umount -R "$ROOT/$mount" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# The host's Debian mirror, as its own apt sources name it.
mirror() {
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$uri" ] || fail "no Debian mirror found in the host's apt sources"
  echo "$uri"
}

in_root() {
  chroot "$ROOT" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 SSL_CERT_FILE=$CA NODE_EXTRA_CA_CERTS=$CA PIP_CERT=$CA DEBIAN_FRONTEND=noninteractive \
    bash -c "$1"
}

build_root() {
  command -v debootstrap >/dev/null || apt-get install -y -q --no-install-recommends debootstrap
  rm -rf "$WORK"; mkdir -p "$WORK"
  say "debootstrap --variant=minbase bookworm (about a minute)"
  debootstrap --variant=minbase bookworm "$ROOT" "$(mirror)" > "$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
  for mount in proc sys dev; do mkdir -p "$ROOT/$mount"; mount --rbind "/$mount" "$ROOT/$mount"; done
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  cp -r /etc/apt/sources.list.d/. "$ROOT/etc/apt/sources.list.d/" 2>/dev/null || true
  find "$ROOT/etc/apt/sources.list.d" -name '*.disabled*' -delete
  cp /etc/apt/apt.conf.d/99* "$ROOT/etc/apt/apt.conf.d/" 2>/dev/null || true
  mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/root/.config"
  cp "$CA" "$ROOT$CA"
  for file in /etc/pip.conf /etc/npmrc /root/.npmrc; do [ -f "$file" ] && cp "$file" "$ROOT$file"; done
  [ -d /root/.config/pip ] && cp -r /root/.config/pip "$ROOT/root/.config/"
  say "apt-get install git make python3 python3-venv ca-certificates"
  in_root "apt-get update -q && apt-get install -y -q --no-install-recommends git make python3 python3-venv \
    ca-certificates iproute2 curl" > "$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log"; fail "apt-get"; }
  cp "$CA" "$ROOT$CA"  # ca-certificates rewrote the bundle from Debian's list: the host's wins
}

install_portal() {
  say "git clone (HEAD of $REPO) and make install"
  git clone -q "$REPO" "$ROOT/root/portal"
  in_root "cd /root/portal && make install" > "$WORK/install.log" 2>&1 \
    || { tail -30 "$WORK/install.log"; fail "make install"; }
  tail -3 "$WORK/install.log"
}

in_netns() { ip netns exec "$NETNS" chroot "$ROOT" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 bash -c "$1"; }

smoke_demo() {
  ip netns add "$NETNS"
  ip netns exec "$NETNS" ip link set lo up
  say "make demo in a network namespace of its own"
  ip netns exec "$NETNS" chroot "$ROOT" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    setsid bash -c "cd /root/portal && exec make demo" > "$WORK/demo.log" 2>&1 < /dev/null &
  local demo=$!
  for _ in $(seq 120); do
    in_netns "curl -fsS http://127.0.0.1:5000/readyz" > "$WORK/readyz.json" 2>/dev/null && break
    kill -0 "$demo" 2>/dev/null || { tail -30 "$WORK/demo.log"; fail "make demo exited"; }
    sleep 1
  done
  grep -q '"status": *"ready"' "$WORK/readyz.json" || { cat "$WORK/readyz.json"; tail -30 "$WORK/demo.log"; \
    fail "/readyz is not ready"; }
  say "/readyz: $(tr -d '\n' < "$WORK/readyz.json")"
  in_netns "curl -fsSL -c /tmp/jar -b /tmp/jar http://127.0.0.1:5000/signin" > "$WORK/signin.html" \
    || fail "/signin did not lead to a page"
  grep -qi 'name="password"' "$WORK/signin.html" || fail "/signin did not reach the provider's sign-in form"
  say "/signin reached the identity provider's sign-in form"
  kill -INT -- "-$(ps -o pgid= "$demo" | tr -d ' ')" 2>/dev/null || kill -INT "$demo"
  for _ in $(seq 30); do kill -0 "$demo" 2>/dev/null || break; sleep 1; done
  kill -0 "$demo" 2>/dev/null && fail "make demo did not stop on Ctrl-C"
  local left
  left=$(ip netns pids "$NETNS" | xargs -r ps -o pid=,args= -p || true)
  [ -z "$left" ] || { echo "$left"; fail "processes left running after Ctrl-C"; }
  tail -2 "$WORK/demo.log"
  say "demo stopped; nothing left running"
}

build_root
install_portal
smoke_demo
say "PASSED: a fresh Debian 12 installs and runs the demo"
