#!/usr/bin/env bash
# Restore a backup made by scripts/backup_mysql.sh into a named database, never losing the one there.
#
#   scripts/restore_mysql.sh [-h HOST] [-P PORT] [-u USER] [--replace] BACKUP.sql.gz TARGET_DATABASE
#
# The dump is loaded into a new staging database (TARGET__restore_<time>_<pid>) and checked there: the dump's
# "-- Dump completed" line, the same tables, and each table's row count equal to the rows in the dump. Only
# then one atomic RENAME TABLE moves the tables into TARGET. A TARGET that has tables is refused unless
# --replace is given; its tables then move in that same statement to TARGET__before_<time>_<pid>, which is kept
# (drop it once you are satisfied). Until that statement TARGET is never touched: a cut-off dump, a failed
# load or a killed restore leaves it as it was.
# The restore runs in its own session (setsid), so a lost terminal (SIGHUP) does not stop it; this terminal
# shows its log (kept in /tmp/lixiao-restore-TARGET-*.log if the terminal goes). Ctrl-C or `kill PID` stops
# it cleanly; after a SIGKILL a TARGET__restore_* database may be left (named at the next run; TARGET is
# untouched). Needs python3 (scripts/dump_inventory.py counts the dump's tables and rows).
# The password comes from LIXIAO_MYSQL_DEFAULTS_FILE or MYSQL_PWD, as for the backup. Stop the app first;
# afterwards point LIXIAO_DATABASE_URL at TARGET and run `python -m server.cli migrate`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
host=127.0.0.1 port=3306 user=root replace=0 detached=0
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
args=()
for arg in "$@"; do
  case $arg in
    --replace) replace=1 ;; --detached) detached=1 ;; *) args+=("$arg") ;;
  esac
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
[[ $target =~ ^[A-Za-z0-9_]{1,36}$ ]] || { echo "restore: database name must be [A-Za-z0-9_]{1,36}" >&2; exit 2; }

client=$(command -v mariadb || command -v mysql) || { echo "restore: mariadb client not found" >&2; exit 1; }
defaults=()
[[ -n ${LIXIAO_MYSQL_DEFAULTS_FILE:-} ]] && defaults=(--defaults-extra-file="$LIXIAO_MYSQL_DEFAULTS_FILE")
sql() { "$client" "${defaults[@]}" --host="$host" --port="$port" --user="$user" --batch --skip-column-names "$@"; }
count_tables() {
  sql -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$1' AND table_type = 'BASE TABLE'"
}

refuse_filled_target() {
  local tables
  tables=$(count_tables "$target")
  if [[ $tables -gt 0 && $replace -eq 0 ]]; then
    echo "restore: database $target already has $tables tables; pass --replace to replace them (they are kept)" >&2
    exit 1
  fi
}

if [[ $detached -eq 0 ]]; then
  # The caller's side: quick refusals here, then the restore itself in a new session that outlives the terminal.
  gzip -t "$backup"
  refuse_filled_target
  log=$(mktemp "${TMPDIR:-/tmp}/lixiao-restore-$target-XXXXXX.log")
  flags=(-h "$host" -P "$port" -u "$user" --detached)
  [[ $replace -eq 1 ]] && flags+=(--replace)
  setsid nohup bash "$0" "${flags[@]}" "$backup" "$target" >"$log" 2>&1 </dev/null &
  worker=$!
  echo "restore: running as pid $worker in its own session (a lost terminal does not stop it); log: $log"
  tail -n +1 --pid="$worker" -f "$log" & tailer=$!
  trap 'kill -TERM -- "-$worker" 2>/dev/null || true' INT TERM  # Ctrl-C or kill stops the restore, cleanly
  while :; do  # a trapped signal interrupts `wait`; wait again until the restore has ended
    wait "$worker" && status=0 || status=$?
    kill -0 "$worker" 2>/dev/null || break
  done
  wait "$tailer" || true  # the rest of the log, shown here; the file stays only when this terminal is lost
  rm -f "$log"
  exit "$status"
fi

# The restore itself (its own session and process group; SIGHUP ignored, SIGTERM/SIGINT clean up).
stamp="$(date -u +%s)_$$"  # unique per run, and at most 64 characters with the target's 36
staging="${target}__restore_${stamp}" previous="${target}__before_${stamp}" created=0 swapped=0
echo "restore: $(date -u +%FT%TZ) $backup -> $target (staging $staging)"
finish() {
  local status=$?
  if [[ $swapped -eq 0 ]]; then
    if [[ $created -eq 1 ]]; then
      sql -e "DROP DATABASE IF EXISTS \`$staging\`" || echo "restore: could not drop $staging; drop it by hand" >&2
    fi
    [[ $status -ne 0 ]] && echo "restore: failed; $target was not touched and nothing is left half-restored" >&2
  fi
  exit "$status"
}
trap finish EXIT
trap '' HUP
trap 'exit 143' TERM
trap 'exit 130' INT

leftovers=$(sql -e "SELECT schema_name FROM information_schema.schemata
                    WHERE schema_name LIKE '${target}\\_\\_restore\\_%'" | tr '\n' ' ')
[[ -n $leftovers ]] && echo "restore: note: staging databases left by killed restores: $leftovers(drop them)"
refuse_filled_target

echo "restore: checking the dump"
expected=$(zcat "$backup" | python3 "$here/dump_inventory.py") || exit 1
expected_tables=$(grep -c . <<<"$expected" || true)
[[ $expected_tables -gt 0 ]] || { echo "restore: the dump holds no tables" >&2; exit 1; }

echo "restore: loading $expected_tables tables into $staging"
sql -e "CREATE DATABASE \`$staging\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
created=1
zcat "$backup" | sql --default-character-set=utf8mb4 "$staging" || { echo "restore: loading the dump failed" >&2; exit 1; }

echo "restore: checking $staging against the dump"
found=$(sql -e "SELECT table_name FROM information_schema.tables
                WHERE table_schema = '$staging' AND table_type = 'BASE TABLE' ORDER BY table_name")
if [[ $(LC_ALL=C sort <<<"$found") != "$(cut -f1 <<<"$expected" | LC_ALL=C sort)" ]]; then
  echo "restore: the restored tables differ from the dump's" >&2; exit 1
fi
others=$(sql -e "SELECT (SELECT COUNT(*) FROM information_schema.views WHERE table_schema = '$staging')
                      + (SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = '$staging')
                      + (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = '$staging')")
[[ $others -eq 0 ]] || { echo "restore: the dump has views, triggers or routines; restore it by hand" >&2; exit 1; }
rows=0
while IFS=$'\t' read -r table want; do
  have=$(sql -e "SELECT COUNT(*) FROM \`$staging\`.\`$table\`")
  [[ $have -eq $want ]] || { echo "restore: table $table has $have rows, the dump $want" >&2; exit 1; }
  rows=$((rows + have))
done <<<"$expected"

# The swap: one RENAME TABLE statement, atomic in MariaDB/MySQL (all tables move, or none).
moves=()
existing=$(sql -e "SELECT table_name FROM information_schema.tables
                   WHERE table_schema = '$target' AND table_type = 'BASE TABLE'")
if [[ -n $existing ]]; then
  sql -e "CREATE DATABASE \`$previous\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  while read -r table; do moves+=("\`$target\`.\`$table\` TO \`$previous\`.\`$table\`"); done <<<"$existing"
fi
while read -r table; do moves+=("\`$staging\`.\`$table\` TO \`$target\`.\`$table\`"); done <<<"$found"
sql -e "CREATE DATABASE IF NOT EXISTS \`$target\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
statement=$(IFS=,; echo "RENAME TABLE ${moves[*]}")
if ! sql -e "$statement"; then
  [[ -n $existing ]] && sql -e "DROP DATABASE IF EXISTS \`$previous\`"  # still empty: the rename moved nothing
  exit 1
fi
swapped=1
sql -e "DROP DATABASE IF EXISTS \`$staging\`"
echo "restored $backup into $target ($expected_tables tables, $rows rows, checked against the dump)"
[[ -n $existing ]] && echo "restore: the tables $target had before are kept in $previous; drop it when satisfied"
exit 0
