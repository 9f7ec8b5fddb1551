#!/usr/bin/env bash
# Restore a backup made by scripts/backup_mysql.sh into a named database.
#
#   scripts/restore_mysql.sh [-h HOST] [-P PORT] [-u USER] [--replace] BACKUP.sql.gz TARGET_DATABASE
#
# TARGET_DATABASE is created (utf8mb4). A database that already has tables is refused unless --replace is
# given, which drops it first. If the restore fails, a database this script created is dropped again, so a
# half-restored copy is never left behind. The password comes from LIXIAO_MYSQL_DEFAULTS_FILE or MYSQL_PWD,
# as for the backup. Afterwards point LIXIAO_DATABASE_URL at TARGET_DATABASE and run
# `python -m server.cli migrate` (a no-op when the backup came from the same release).
set -euo pipefail

host=127.0.0.1 port=3306 user=root replace=0
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
args=()
for arg in "$@"; do
  if [[ $arg == --replace ]]; then replace=1; else args+=("$arg"); fi
done
set -- "${args[@]}"
while getopts "h:P:u:" opt; do
  case $opt in
    h) host=$OPTARG ;; P) port=$OPTARG ;; u) user=$OPTARG ;; *) usage ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -eq 2 ]] || usage
backup=$1 target=$2
[[ -f $backup ]] || { echo "restore: no such file: $backup" >&2; exit 1; }
[[ $target =~ ^[A-Za-z0-9_]+$ ]] || { echo "restore: database name must be [A-Za-z0-9_]+" >&2; exit 2; }
gzip -t "$backup"

client=$(command -v mariadb || command -v mysql) || { echo "restore: mariadb client not found" >&2; exit 1; }
defaults=()
[[ -n ${LIXIAO_MYSQL_DEFAULTS_FILE:-} ]] && defaults=(--defaults-extra-file="$LIXIAO_MYSQL_DEFAULTS_FILE")
sql() { "$client" "${defaults[@]}" --host="$host" --port="$port" --user="$user" --batch --skip-column-names "$@"; }

tables=$(sql -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$target'")
exists=$(sql -e "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$target'")
if [[ $tables -gt 0 && $replace -eq 0 ]]; then
  echo "restore: database $target already has $tables tables; pass --replace to drop it first" >&2
  exit 1
fi
[[ $replace -eq 1 ]] && sql -e "DROP DATABASE IF EXISTS \`$target\`" && exists=0
sql -e "CREATE DATABASE IF NOT EXISTS \`$target\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
if ! zcat "$backup" | sql --default-character-set=utf8mb4 "$target"; then
  echo "restore: failed; nothing is left half-restored" >&2
  [[ $exists -eq 0 ]] && sql -e "DROP DATABASE IF EXISTS \`$target\`"
  exit 1
fi
echo "restored $backup into $target ($(sql -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$target'") tables)"
