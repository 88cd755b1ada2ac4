#!/usr/bin/env bash
# Back up Mestring: the PostgreSQL database (pg_dump custom format) and MEDIA_ROOT (tar.gz),
# into BACKUP_DIR/<UTC timestamp>/ with a SHA256SUMS file; delete backups older than
# RETENTION_DAYS. Run daily as root or as the mestring user, e.g. from a systemd timer or cron:
#   15 2 * * *  /opt/mestring/deploy/backup.sh
#
# Configuration (environment, or the env file):
#   MESTRING_ENV_FILE  env file with DATABASE_URL and MEDIA_ROOT (default /etc/mestring/mestring.env)
#   BACKUP_DIR         where backups go (default /var/backups/mestring); keep it on other disks
#                      too, e.g. rsync/restic it off the host: it holds health data, encrypt it
#   RETENTION_DAYS     days to keep (default 14)
# Needs pg_dump of the server's major version (15) or newer. Restore with deploy/restore.sh.
set -euo pipefail
umask 077

ENV_FILE="${MESTRING_ENV_FILE:-/etc/mestring/mestring.env}"
if [[ -r "$ENV_FILE" ]]; then
    set -a
    # shellcheck source=/dev/null
    . "$ENV_FILE"
    set +a
fi
BACKUP_DIR="${BACKUP_DIR:-/var/backups/mestring}"
RETENTION_DAYS="${RETENTION_DAYS:-14}"

log() { printf '%s backup: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'backup: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set (env file: $ENV_FILE)"
[[ -n "${MEDIA_ROOT:-}" ]] || die "MEDIA_ROOT is not set (env file: $ENV_FILE)"
[[ "$RETENTION_DAYS" =~ ^[0-9]+$ && "$RETENTION_DAYS" -ge 1 ]] || die "RETENTION_DAYS must be a positive integer"
command -v pg_dump >/dev/null || die "pg_dump not found (apt-get install postgresql-client-15)"

# libpq takes postgres:// URLs, but not dj-database-url's own query options.
libpq_url() {
    local url="$1" base query kept="" part
    base="${url%%\?*}"
    if [[ "$url" == *\?* ]]; then
        query="${url#*\?}"
        local IFS='&'
        for part in $query; do
            case "$part" in
            conn_max_age=* | conn_health_checks=* | disable_server_side_cursors=* | ssl_require=*) ;;
            *) kept="${kept:+$kept&}$part" ;;
            esac
        done
    fi
    printf '%s%s\n' "$base" "${kept:+?$kept}"
}
DB_URL="$(libpq_url "$DATABASE_URL")"

mkdir -p "$BACKUP_DIR"
exec 9>"$BACKUP_DIR/.lock"
flock -n 9 || die "another backup is running (lock $BACKUP_DIR/.lock)"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
TARGET="$BACKUP_DIR/$STAMP"
PARTIAL="$BACKUP_DIR/.partial-$STAMP"
trap 'rm -rf -- "$PARTIAL"' EXIT
mkdir "$PARTIAL"

log "dumping database to $TARGET/db.dump"
pg_dump --dbname="$DB_URL" --format=custom --compress=6 --no-password --file="$PARTIAL/db.dump"
pg_restore --list "$PARTIAL/db.dump" >/dev/null || die "the dump cannot be read back"

if [[ -d "$MEDIA_ROOT" ]]; then
    log "archiving $MEDIA_ROOT to $TARGET/media.tar.gz"
    tar --create --gzip --file="$PARTIAL/media.tar.gz" \
        --directory="$(dirname "$MEDIA_ROOT")" "$(basename "$MEDIA_ROOT")"
else
    log "MEDIA_ROOT $MEDIA_ROOT does not exist; no media archive"
fi

(cd "$PARTIAL" && sha256sum -- * >SHA256SUMS)
mv -- "$PARTIAL" "$TARGET"
trap - EXIT
log "done: $TARGET ($(du -sh "$TARGET" | cut -f1))"

# Retention: only directories named like our timestamps, and never the one just written.
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '20[0-9][0-9][01][0-9][0-3][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z' \
    -mtime "+$((RETENTION_DAYS - 1))" ! -path "$TARGET" -print0 |
    while IFS= read -r -d '' old; do
        log "removing expired backup $old"
        rm -rf -- "$old"
    done
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '.partial-*' -mmin +1440 -exec rm -rf -- {} +
