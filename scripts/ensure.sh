#!/usr/bin/env bash
# Makes this checkout ready to run: npm dependencies, a fresh build, a Docker engine that answers,
# busybox for the example image, and the example image itself. Idempotent and quiet when there is
# nothing to do. Parts can be skipped: ENSURE_DEPS=0 ENSURE_BUILD=0 ENSURE_DOCKER=0 ENSURE_IMAGE=0
# ENSURE_LB=0 ENSURE_CHROMIUM=0 (ENSURE_DOCKER=0 also skips the image).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'ensure: %s\n' "$*" >&2; }
die() { printf 'ensure: %s\n' "$*" >&2; exit 1; }

is_debian_root() { [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ]; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# (a) npm dependencies. better-sqlite3 builds from source against the Node headers in /usr.
ensure_deps() {
  if [ -f package-lock.json ]; then
    if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      # `npm install`, not `npm ci`: npm 11's ci refuses this lock because the registry here
      # serves no lock entries for other platforms' optional packages (rollup's), though
      # install resolves the very same versions from the lock.
      say "installing npm dependencies (npm install; better-sqlite3 builds from source, about 2 minutes)"
      npm_config_nodedir=/usr npm install --no-fund --no-audit
      touch node_modules/.package-lock.json
    fi
  elif [ ! -d node_modules ]; then
    say "installing npm dependencies (npm install)"
    npm_config_nodedir=/usr npm install --no-fund --no-audit
  fi
}

# (b) the build, when dist/ is missing or older than any source file (tests and READMEs aside).
ensure_build() {
  local stamp=dist/.build-stamp
  if [ -f "$stamp" ] && [ -z "$(find src web/src web/index.html web/vite.config.ts scripts/bundle-cli.ts tsconfig.json tsconfig.build.json package-lock.json -newer "$stamp" \
      -type f ! -name '*.test.ts' ! -name '*.md' -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  say "building (npm run build)"
  # Stamp the start, not the end: a file saved during the build makes the next run build again.
  local started
  started=$(mktemp)
  npm run -s build
  mkdir -p dist
  mv -f "$started" "$stamp"
  chmod 644 "$stamp"
}

docker_answers() { docker info >/dev/null 2>&1; }

# (c) a Docker engine, and a static busybox for the example image.
ensure_docker() {
  if ! command -v docker >/dev/null 2>&1 || ! docker_answers; then
    if ! is_debian_root; then
      die "Docker does not answer ('docker info' fails). Install Docker Engine (Debian: apt-get install docker.io), start it, make sure this user may use /var/run/docker.sock, then run this again."
    fi
    command -v dockerd >/dev/null 2>&1 || apt_install docker.io
    command -v docker >/dev/null 2>&1 || apt_install docker.io
    if ! docker_answers; then
      local pidfile=/var/run/gantry-dockerd.pid
      if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        say "waiting for dockerd (pid $(cat "$pidfile"))"
      else
        say "starting dockerd --live-restore (log: /var/log/gantry-dockerd.log)"
        nohup dockerd --live-restore >>/var/log/gantry-dockerd.log 2>&1 &
        echo $! >"$pidfile"
      fi
      local i
      for i in $(seq 1 60); do
        docker_answers && break
        sleep 1
      done
      docker_answers || die "dockerd did not answer within 60 s; see /var/log/gantry-dockerd.log"
      say "docker is up"
    fi
  fi
  # The example image is FROM scratch: it needs a statically linked busybox.
  if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
    if is_debian_root; then
      apt_install busybox-static
    else
      die "a static /bin/busybox is needed for the example image: install busybox-static (Debian), then run this again."
    fi
  fi
}

# (d) the example image of examples/hello.yaml.
ensure_image() {
  docker image inspect gantry-examples/hello:1 >/dev/null 2>&1 || bash scripts/build-example-image.sh
}

# (e) HAProxy for the load balancer and wrk for `npm run bench -- lb`. Without them Gantry runs
# with the load balancer off (one warning line), so elsewhere than Debian root this only says so.
ensure_lb() {
  local missing=()
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  if [ "${#missing[@]}" != 0 ]; then
    if is_debian_root; then
      apt_install "${missing[@]}"
    else
      say "missing ${missing[*]}: the load balancer (haproxy) or its benchmark (wrk) will not run; install them (Debian: apt-get install haproxy wrk)"
    fi
  fi
  ensure_haproxy_user
}

# HAProxy's workers run as user haproxy in a chroot (docs/security.md, "HAProxy hardening"), as in
# Debian's own haproxy.cfg. Debian's package creates both; a hand-built haproxy may not have them.
ensure_haproxy_user() {
  [ "$(id -u)" = 0 ] || return 0
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || return 0
  getent group haproxy >/dev/null || groupadd --system haproxy
  getent passwd haproxy >/dev/null || useradd --system --gid haproxy --home-dir /var/lib/haproxy --no-create-home --shell /usr/sbin/nologin haproxy
  mkdir -p /var/lib/haproxy
}

# (f) Chromium for the console's browser tests (playwright-core drives /usr/bin/chromium; no
# browser is ever downloaded by npm). Installed only when missing.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if is_debian_root; then
    apt_install chromium
  else
    say "missing /usr/bin/chromium: the console's browser test (test/e2e/console.test.ts) will fail; install it (Debian: apt-get install chromium)"
  fi
}

[ "${ENSURE_DEPS:-1}" = 0 ] || ensure_deps
[ "${ENSURE_BUILD:-1}" = 0 ] || ensure_build
if [ "${ENSURE_DOCKER:-1}" != 0 ]; then
  ensure_docker
  [ "${ENSURE_IMAGE:-1}" = 0 ] || ensure_image
fi
[ "${ENSURE_LB:-1}" = 0 ] || ensure_lb
# (f) lxcfs, so containers see their own limits in /proc/meminfo, cpuinfo, stat, uptime, loadavg
# (the agent mounts its files when /var/lib/lxcfs is a lxcfs mount). Started here as dockerd is:
# in the background, pid in a pid file, when it does not run yet.
ensure_lxcfs() {
  if ! command -v lxcfs >/dev/null 2>&1; then
    if is_debian_root; then apt_install lxcfs; else say "lxcfs is not installed: containers will see the host's /proc/meminfo (Debian: apt-get install lxcfs)"; return 0; fi
  fi
  if grep -q ' /var/lib/lxcfs .* fuse.lxcfs ' /proc/self/mountinfo; then
    head -c 1 /var/lib/lxcfs/proc/meminfo >/dev/null 2>&1 && return 0
    # The mount of an lxcfs that was killed: its files answer "transport endpoint is not connected".
    umount -l /var/lib/lxcfs 2>/dev/null || true
  fi
  [ "$(id -u)" = 0 ] && [ -e /dev/fuse ] || { say "lxcfs cannot start here (needs root and /dev/fuse): containers will see the host's /proc/meminfo"; return 0; }
  mkdir -p /var/lib/lxcfs
  say "starting lxcfs /var/lib/lxcfs (log: /var/log/gantry-lxcfs.log)"
  nohup lxcfs /var/lib/lxcfs >>/var/log/gantry-lxcfs.log 2>&1 &
  echo $! >/var/run/gantry-lxcfs.pid
  for _ in $(seq 1 50); do grep -q ' /var/lib/lxcfs .* fuse.lxcfs ' /proc/self/mountinfo && return 0; sleep 0.1; done
  say "lxcfs did not mount /var/lib/lxcfs; see /var/log/gantry-lxcfs.log"
}
[ "${ENSURE_LXCFS:-1}" = 0 ] || ensure_lxcfs
# tmux drives a real terminal in the `gantry exec -it` e2e test.
if ! command -v tmux >/dev/null 2>&1 && is_debian_root; then apt_install tmux; fi
[ "${ENSURE_CHROMIUM:-1}" = 0 ] || ensure_chromium

# (g) etcd for the etcd store backend (docs/ha.md) and its conformance tests: the binary only;
# Debian's package would also start a system etcd where systemd runs, which Gantry never uses
# (tests and `gantry up --ha` start their own on loopback ports with TLS).
ensure_etcd() {
  local missing=()
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  # etcdctl restores an etcd snapshot (gantry restore --store etcd; test/e2e/backup.test.ts).
  command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
  [ "${#missing[@]}" = 0 ] && return 0
  if is_debian_root; then
    apt_install "${missing[@]}"
  else
    say "missing ${missing[*]}: the etcd store and HA tests will fail; install them (Debian: apt-get install ${missing[*]})"
  fi
}
[ "${ENSURE_ETCD:-1}" = 0 ] || ensure_etcd
