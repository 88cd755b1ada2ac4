#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh, OVERWRITING the current database and MEDIA_ROOT.
#
#   deploy/restore.sh --yes-overwrite-everything [--db-only | --media-only] [--ignore-running] \
#       /var/backups/mestring/20260101T021500Z
#
# Without --yes-overwrite-everything it only checks the backup and says what it would do.
# Stop the services and timers first:
#   systemctl stop mestring-web mestring-ws 'mestring-worker@*' 'mestring-reminders@*' 'mestring-*.timer'
# (it refuses while they run, unless --ignore-running). Afterwards run
#   manage.py migrate  (if the code is newer than the backup), then start the services.
# The previous media directory is kept as MEDIA_ROOT.before-restore-<time> until you delete it.
#
# Environment: MESTRING_ENV_FILE (default /etc/mestring/mestring.env) with DATABASE_URL and
# MEDIA_ROOT. Run it with the app's own DATABASE_URL: everything that role owns in the database
# is replaced by the backup's content.
set -euo pipefail
umask 027

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
log() { printf '%s restore: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'restore: ERROR: %s\n' "$*" >&2; exit 1; }

confirmed=0 do_db=1 do_media=1 ignore_running=0 source_dir=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --yes-overwrite-everything) confirmed=1 ;;
    --db-only) do_media=0 ;;
    --media-only) do_db=0 ;;
    --ignore-running) ignore_running=1 ;;
    -h | --help) usage ;;
    -*) die "unknown option $1" ;;
    *)
        [[ -z "$source_dir" ]] || die "only one backup directory, please"
        source_dir="$1"
        ;;
    esac
    shift
done
[[ -n "$source_dir" ]] || usage
[[ $do_db -eq 1 || $do_media -eq 1 ]] || die "--db-only and --media-only exclude each other"
[[ -d "$source_dir" ]] || die "$source_dir is not a directory"
source_dir="$(cd "$source_dir" && pwd)"

ENV_FILE="${MESTRING_ENV_FILE:-/etc/mestring/mestring.env}"
if [[ -r "$ENV_FILE" ]]; then
    set -a
    # shellcheck source=/dev/null
    . "$ENV_FILE"
    set +a
fi
[[ $do_db -eq 0 || -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set (env file: $ENV_FILE)"
[[ $do_media -eq 0 || -n "${MEDIA_ROOT:-}" ]] || die "MEDIA_ROOT is not set (env file: $ENV_FILE)"

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

# 1. The backup is complete and intact.
[[ -f "$source_dir/SHA256SUMS" ]] || die "$source_dir/SHA256SUMS is missing: not a complete backup"
(cd "$source_dir" && sha256sum --quiet --check SHA256SUMS) || die "checksums do not match"
if [[ $do_db -eq 1 ]]; then
    [[ -f "$source_dir/db.dump" ]] || die "$source_dir/db.dump is missing"
    command -v pg_restore >/dev/null || die "pg_restore not found (apt-get install postgresql-client-15)"
    pg_restore --list "$source_dir/db.dump" >/dev/null || die "db.dump is not readable by pg_restore"
fi
media_archive="$source_dir/media.tar.gz"
if [[ $do_media -eq 1 && ! -f "$media_archive" ]]; then
    log "the backup has no media.tar.gz; media is left as it is"
    do_media=0
fi

log "backup $source_dir is intact"
db_where="${DATABASE_URL#*@}"
[[ $do_db -eq 1 ]] && log "would replace the database ${db_where%%\?*} with db.dump"
[[ $do_media -eq 1 ]] && log "would replace $MEDIA_ROOT with media.tar.gz"
if [[ $confirmed -ne 1 ]]; then
    die "nothing changed: add --yes-overwrite-everything to overwrite the current data"
fi

# 2. Nothing is writing meanwhile.
if [[ $ignore_running -eq 0 ]] && command -v systemctl >/dev/null 2>&1; then
    # Everything that writes: the web and websocket processes, workers, reminder dispatchers, and the timers
    # that start the periodic jobs (a job started halfway through a restore writes into half a database).
    running="$(systemctl list-units --state=active --no-legend --plain 'mestring-web.service' \
        'mestring-ws.service' 'mestring-worker@*.service' 'mestring-reminders@*.service' \
        'mestring-*.timer' 2>/dev/null | awk '{print $1}' || true)"
    if [[ -n "$running" ]]; then
        die "stop these first (or pass --ignore-running): $(echo "$running" | tr '\n' ' ')"
    fi
fi

# 3. Database: drop everything the app's role owns, then load the dump; one transaction, so
#    a failure leaves the database as it was.
if [[ $do_db -eq 1 ]]; then
    command -v psql >/dev/null || die "psql not found (apt-get install postgresql-client-15)"
    log "restoring database"
    {
        printf 'DROP OWNED BY CURRENT_USER;\n'
        pg_restore --no-owner --no-privileges --file=- "$source_dir/db.dump"
    } | psql --dbname="$(libpq_url "$DATABASE_URL")" --no-password --no-psqlrc --quiet \
        --single-transaction --set=ON_ERROR_STOP=1 >/dev/null
    log "database restored"
fi

# 4. Media: unpack beside MEDIA_ROOT, then swap directories.
if [[ $do_media -eq 1 ]]; then
    media_root="${MEDIA_ROOT%/}"
    parent="$(dirname "$media_root")"
    name="$(basename "$media_root")"
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
    staging="$parent/.restore-$name-$stamp"
    mkdir -p "$staging"
    log "unpacking media into $staging"
    tar --extract --gzip --file="$media_archive" --directory="$staging"
    [[ -d "$staging/$name" ]] || die "media.tar.gz does not contain $name/ (left in $staging)"
    if [[ -e "$media_root" ]]; then
        mv -- "$media_root" "$media_root.before-restore-$stamp"
        log "previous media kept in $media_root.before-restore-$stamp"
    fi
    mv -- "$staging/$name" "$media_root"
    rmdir -- "$staging"
    log "media restored to $media_root"
fi

log "done. Next: manage.py migrate (if needed), then start the services."
