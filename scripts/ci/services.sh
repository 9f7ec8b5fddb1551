#!/usr/bin/env bash
# Install (when missing) and start (when down) what the test suites need:
# MariaDB on 127.0.0.1:3306 (root, empty password), Redis on 127.0.0.1:6379, Chromium, a CJK font, poppler-utils,
# wrk, and nginx (only its binary: tests/test_deploy.py runs it on private ports).
# Safe to run again and again; it only acts on what is missing or stopped.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=0
apt_install() {
  if [[ $APT_UPDATED -eq 0 ]]; then as_root apt-get update -q >/dev/null; APT_UPDATED=1; fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

install_missing() {
  local pkgs=()
  command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || pkgs+=(mariadb-server mariadb-client)
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
  [[ -x /usr/bin/chromium ]] || pkgs+=(chromium)
  fc-list 2>/dev/null | grep -qi 'wenquanyi\|wqy' || pkgs+=(fonts-wqy-zenhei fontconfig)
  dpkg -s libcairo2 >/dev/null 2>&1 || pkgs+=(libcairo2)
  command -v pdftotext >/dev/null 2>&1 || pkgs+=(poppler-utils)  # the certificate print test reads the PDF
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
  [[ -x /usr/sbin/nginx ]] || pkgs+=(nginx-light)  # tests/test_deploy.py rehearses deploy/nginx (never started as a service)
  command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)  # the benchmarks' load generator (make bench)
  if ((${#pkgs[@]})); then apt_install "${pkgs[@]}"; fi
}

mariadb_ok() { mariadb --no-defaults -uroot -h127.0.0.1 -P3306 -e 'select 1' >/dev/null 2>&1; }

start_mariadb() {
  if mariadb_ok; then return; fi
  log "starting MariaDB"
  if [[ ! -d /var/lib/mysql/mysql ]]; then
    as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
  fi
  as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- \
    --user=mysql --bind-address=127.0.0.1 --port=3306 --innodb-lock-wait-timeout=10
  for _ in $(seq 150); do
    mariadb_ok && return
    # A package-fresh server lets root in only through the socket: open TCP as the machine image does.
    if mariadb --no-defaults -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
        GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;" >/dev/null 2>&1; then
      mariadb_ok && return
    fi
    sleep 0.2
  done
  log "MariaDB did not come up"; return 1
}

redis_ok() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

start_redis() {
  if redis_ok; then return; fi
  log "starting Redis"
  mkdir -p /tmp/lixiao-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --dir /tmp/lixiao-redis --logfile /tmp/lixiao-redis/redis.log
  for _ in $(seq 100); do redis_ok && return; sleep 0.05; done
  log "Redis did not come up"; return 1
}

install_missing
start_mariadb
start_redis
log "MariaDB and Redis are up; Chromium: $(/usr/bin/chromium --version 2>/dev/null | tail -1)"
