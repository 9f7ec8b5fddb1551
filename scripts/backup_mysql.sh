#!/usr/bin/env bash
# Back up one Lixiao database to a gzipped SQL file that restores under any name (scripts/restore_mysql.sh).
#
#   scripts/backup_mysql.sh [-h HOST] [-P PORT] [-u USER] DATABASE [OUTPUT.sql.gz]
#
# One consistent snapshot (--single-transaction: InnoDB, no table locks, the service keeps running), stored
# routines, triggers, binary columns as hex. The password is never on the command line: put it in an option
# file named by LIXIAO_MYSQL_DEFAULTS_FILE ([client] password=...) or in MYSQL_PWD. The file is written
# next to OUTPUT and renamed into place only when the dump finished and gzip verified it, so a failed or
# interrupted backup never leaves a file that looks complete. Prints: path, bytes, sha256.
set -euo pipefail

host=127.0.0.1 port=3306 user=root
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "h:P:u:" opt; do
  case $opt in
    h) host=$OPTARG ;; P) port=$OPTARG ;; u) user=$OPTARG ;; *) usage ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 && $# -le 2 ]] || usage
database=$1
[[ $database =~ ^[A-Za-z0-9_]+$ ]] || { echo "backup: database name must be [A-Za-z0-9_]+" >&2; exit 2; }
output=${2:-backups/${database}-$(date -u +%Y%m%dT%H%M%SZ).sql.gz}

dump=$(command -v mariadb-dump || command -v mysqldump) || { echo "backup: mariadb-dump not found" >&2; exit 1; }
defaults=()
[[ -n ${LIXIAO_MYSQL_DEFAULTS_FILE:-} ]] && defaults=(--defaults-extra-file="$LIXIAO_MYSQL_DEFAULTS_FILE")

mkdir -p "$(dirname "$output")"
partial=$(mktemp "${output}.partial.XXXXXX")
trap 'rm -f "$partial"' EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM  # so the EXIT trap removes the partial file
"$dump" "${defaults[@]}" --host="$host" --port="$port" --user="$user" \
  --single-transaction --routines --triggers --hex-blob --no-tablespaces \
  --default-character-set=utf8mb4 --quick --skip-lock-tables \
  "$database" | gzip -6 > "$partial"
gzip -t "$partial"
zcat "$partial" | python3 "$(dirname "$0")/dump_inventory.py" >/dev/null || { echo "backup: the dump did not complete" >&2; exit 1; }
chmod 600 "$partial"  # the dump holds personal data and encrypted department keys
mv "$partial" "$output"
trap - EXIT
printf '%s\t%s\t%s\n' "$output" "$(stat -c %s "$output")" "$(sha256sum "$output" | cut -d' ' -f1)"
