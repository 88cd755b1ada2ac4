"""Reminder dispatch benchmark: 100,000 reminders due in the same minute, dispatched by two worker processes
through the inbox, the channel layer and FCM push, against PostgreSQL and Redis (issue 6).

    bash .ci/services start && eval "$(bash .ci/services env)"
    .venv/bin/python -m bench.reminders [--reminders 100000] [--workers 2] [--sample 2000] [--write-readme]

Creates ``mestring_bench_reminders`` on the PostgreSQL of ``$DATABASE_URL`` (dropped at the end), migrates
it, and seeds as many citizens' users as reminders, each with a login and an app install (an FCM token),
and one ``reminder.training`` due at some second of the minute that ends as the workers start (the due
moments are set just before the clock starts, after seeding); one user in five
has quiet hours (outside the run) and one in ten a preference for another kind, so the dispatcher reads
them as it would in production. Then, in separate processes on loopback:

1. a fake FCM server (``bench/reminders/fake_fcm.py``, asyncio) that counts pushes by notification id;
2. a listener (``bench/reminders/listener.py``) joined to the personal stream groups of a sample of the
   users on the Redis channel layer, as an open websocket's consumer is;
3. the workers (``bench/reminders/worker.py``): each runs production's ``dispatch_reminders`` command with
   ``PUSH_MODE=fcm`` and the real firebase-admin client pointed at the fake server, pass after pass until
   no reminder is due, starting at the same instant.

The time is from that instant until the last worker has finished (every reminder sent, every push
answered). Then the database, the fake server and the listener are checked: every reminder sent once,
exactly one notification and one stream event per reminder, one push delivery per notification, sent, and
one FCM request per notification; every sampled user got exactly their one event over the channel layer.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.__main__ import ROOT, RunDatabase, cpu_model, free_port, git_revision, run_environment, run_step, say

BENCH_DATABASE = "mestring_bench_reminders"
README = ROOT / "bench" / "README.md"
RUN_DIRECTORY = ROOT / "var" / "bench-reminders"
FCM_PROJECT = "mestring-bench"
SEED_BATCH = 5000
BUDGET_SECONDS = 90.0
QUIET_MARK = 0.15
README_SECTION = "## Reminders: 100,000 due in the same minute (issue 6)"
BEGIN, END = "<!-- figures:reminders:begin -->", "<!-- figures:reminders:end -->"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=2000, help="users whose stream the listener follows")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--quiet-wait", type=float, default=300.0, help="seconds to wait for other work to stop")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="profile the workers (cProfile, CPU time) into the run directory"
    )
    arguments = parser.parse_args(argv)
    if not arguments.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit('give a PostgreSQL --database-url (eval "$(bash .ci/services env)")')
    if not arguments.redis_url:
        raise SystemExit('give --redis-url (eval "$(bash .ci/services env)")')
    parts = urlsplit(arguments.database_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"the benchmark only runs against a loopback database, not {parts.hostname}")
    return arguments


class Database(RunDatabase):
    """The harness's run database under this benchmark's own name, so that other benchmarks can run at once."""

    name = BENCH_DATABASE
    postgresql_only = 'give a PostgreSQL --database-url (eval "$(bash .ci/services env)")'


# ------------------------------------------------------------------------------------ seeding


def seed(count: int, sample: int) -> tuple[list[str], datetime]:
    """Users with a login and an install each, and one reminder each due in the minute before now."""
    from django.db import connection
    from django.utils import timezone

    from backend.models import AppSession, User
    from notifications.models import NotificationPreference, PushInstall, QuietHours, ReminderOccurrence

    now = timezone.now()
    minute = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    local_now = now.astimezone(timezone.get_default_timezone())
    quiet_start = (local_now + timedelta(hours=3)).time().replace(second=0, microsecond=0)
    quiet_end = (local_now + timedelta(hours=5)).time().replace(second=0, microsecond=0)
    sample_ids: list[str] = []
    for offset in range(0, count, SEED_BATCH):
        numbers = range(offset, min(offset + SEED_BATCH, count))
        users = [
            User(username=f"bench-{number:06d}", display_name=f"Borger {number}", password="!", date_joined=now)
            for number in numbers
        ]
        User.objects.bulk_create(users)
        sessions = [
            AppSession(user=user, audience=AppSession.Audience.CITIZEN, expires_at=now + timedelta(days=30))
            for user in users
        ]
        AppSession.objects.bulk_create(sessions)
        PushInstall.objects.bulk_create(
            PushInstall(
                user=user,
                session=session,
                fcm_token=f"bench-token-{number:06d}:{uuid.uuid4().hex}",
                platform=PushInstall.Platform.ANDROID if number % 3 else PushInstall.Platform.IOS,
                locale=PushInstall.Locale.EN if number % 7 == 0 else PushInstall.Locale.DA,
                created_at=now,
                last_seen_at=now,
            )
            for number, user, session in zip(numbers, users, sessions, strict=True)
        )
        reminders = []
        for number, user in zip(numbers, users, strict=True):
            slot_key = f"slot:{uuid.uuid4()}"
            due_at = minute + timedelta(seconds=number % 60)
            reminders.append(
                ReminderOccurrence(
                    recipient=user,
                    kind="reminder.training",
                    source_key=slot_key,
                    subject_key=slot_key,
                    due_at=due_at,
                    expires_at=due_at + timedelta(hours=8),
                    refs={"slot_id": slot_key.partition(":")[2]},
                    created_at=now,
                    updated_at=now,
                )
            )
        ReminderOccurrence.objects.bulk_create(reminders)
        QuietHours.objects.bulk_create(
            QuietHours(user=user, start_time=quiet_start, end_time=quiet_end, time_zone="Europe/Copenhagen")
            for number, user in zip(numbers, users, strict=True)
            if number % 5 == 0
        )
        NotificationPreference.objects.bulk_create(
            NotificationPreference(user=user, kind="reminder.questionnaire", is_muted=True)
            for number, user in zip(numbers, users, strict=True)
            if number % 10 == 0
        )
        step = max(count // sample, 1)
        sample_ids.extend(str(user.pk) for number, user in zip(numbers, users, strict=True) if number % step == 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return sample_ids[:sample], minute


# ------------------------------------------------------------------------------------ checking


def scalar(statement: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement)
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def instant(statement: str) -> datetime | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement)
        row = cursor.fetchone()
    return row[0] if row else None


def database_counts() -> dict[str, int]:
    occurrence, notification = "notifications_reminderoccurrence", "notifications_notification"
    return {
        "reminders": scalar(f"SELECT count(*) FROM {occurrence}"),  # noqa: S608 - constant table names
        "reminders_sent": scalar(f"SELECT count(*) FROM {occurrence} WHERE status = 'sent'"),  # noqa: S608
        "reminders_open": scalar(  # noqa: S608
            f"SELECT count(*) FROM {occurrence} WHERE status IN ('scheduled', 'claimed')"
        ),
        "notifications": scalar(f"SELECT count(*) FROM {notification}"),  # noqa: S608
        "reminders_with_their_own_notification": scalar(  # noqa: S608
            f"SELECT count(*) FROM {occurrence} o JOIN {notification} n ON n.id = o.notification_id "
            "AND n.recipient_id = o.recipient_id AND n.dedupe_key = replace(o.id::text, '-', '')"
        ),
        "reminders_with_two_notifications": scalar(  # noqa: S608
            f"SELECT count(*) FROM (SELECT dedupe_key FROM {notification} GROUP BY recipient_id, dedupe_key "
            "HAVING count(*) > 1) AS twice"
        ),
        "stream_events": scalar("SELECT count(*) FROM notifications_streamevent WHERE type = 'notification'"),
        "push_deliveries": scalar("SELECT count(*) FROM notifications_pushdelivery"),
        "push_deliveries_sent": scalar("SELECT count(*) FROM notifications_pushdelivery WHERE status = 'sent'"),
        "notifications_delivered": scalar(
            f"SELECT count(*) FROM {notification} WHERE delivered_at IS NOT NULL"  # noqa: S608
        ),
    }


def due_moments_end_at(started: float) -> None:
    """Spread the reminders' due moments over the minute that ends when the workers start (the seeding
    took longer than a minute), each keeping its second: the last ones fall due as the clock starts."""
    from django.db import connection

    start = datetime.fromtimestamp(started, UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_reminderoccurrence SET due_at = %s - interval '60 seconds' "
            "+ make_interval(secs => extract(second FROM due_at)::int + 1), "
            "expires_at = %s + interval '8 hours'",
            [start, start],
        )
    connection.close()


def due_to_sent() -> dict[str, float]:
    """Per reminder, seconds from its due moment to its push recorded as sent (FCM had answered)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) "
            "WITHIN GROUP (ORDER BY extract(epoch FROM d.sent_at - o.due_at)), "
            "max(extract(epoch FROM d.sent_at - o.due_at)), min(o.due_at), max(d.sent_at) "
            "FROM notifications_reminderoccurrence o "
            "JOIN notifications_pushdelivery d ON d.notification_id = o.notification_id AND d.status = 'sent'"
        )
        row = cursor.fetchone()
    (p50, p99), longest, first_due, last_sent = row
    return {
        "p50": float(p50),
        "p99": float(p99),
        "max": float(longest),
        "first_due_to_last_sent": (last_sent - first_due).total_seconds(),
    }


def fcm_stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:  # noqa: S310 - loopback
        return dict(json.load(response))


def listener_check(result: dict[str, Any], sample_ids: list[str]) -> dict[str, int]:
    from notifications.models import Notification

    received = result.get("received", [])
    expected = set(
        str(pk)
        for pk in Notification.objects.filter(recipient_id__in=[uuid.UUID(value) for value in sample_ids]).values_list(
            "pk", flat=True
        )
    )
    got = set(received)
    return {
        "sample_users": len(sample_ids),
        "events_received": len(received),
        "missing": len(expected - got),
        "unexpected": len(got - expected),
        "duplicated": len(received) - len(got),
    }


# ------------------------------------------------------------------------------------ CPU


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    """All CPUs' jiffies and the idle ones."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values), values[3] + values[4]


def redis_jiffies() -> int:
    """Jiffies used by the Redis server (the channel layer's)."""
    used = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text[text.find("(") + 1 : text.rfind(")")].startswith("redis-server"):
            used += sum(int(value) for value in text.rsplit(")", 1)[1].split()[11:15])
    return used


def busy_share(seconds: float = 1.0) -> float:
    """The share of all CPUs busy over ``seconds`` (taken while nothing of the benchmark's is working)."""
    total, idle = machine_jiffies()
    time.sleep(seconds)
    total_after, idle_after = machine_jiffies()
    return max(0.0, 1 - (idle_after - idle) / max(total_after - total, 1))


def wait_for_quiet(limit: float) -> float:
    deadline = time.monotonic() + limit
    share = busy_share()
    if share > QUIET_MARK:
        say(f"   other work is using {share:.0%} of the CPUs; waiting up to {limit:.0f}s for it to stop")
    while share > QUIET_MARK and time.monotonic() < deadline:
        share = busy_share(2.0)
    return share


# ------------------------------------------------------------------------------------ processes


def start(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=log.open("ab"),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode} before it was ready")
        time.sleep(0.05)
    raise SystemExit(f"{process.args!r} was not ready within {timeout:.0f}s")


def json_line(process: subprocess.Popen[bytes], timeout: float, stop_after: float | None = None) -> dict[str, Any]:
    """The last JSON line a process prints. With ``stop_after``, it is asked to stop (SIGTERM) if it has not
    finished by then; its output is read meanwhile, so a line longer than the pipe's buffer cannot block it."""
    if stop_after is not None:
        try:
            output, _ = process.communicate(timeout=stop_after)
        except subprocess.TimeoutExpired:
            process.terminate()
            output, _ = process.communicate(timeout=timeout)
    else:
        output, _ = process.communicate(timeout=timeout)
    lines = [line for line in output.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise SystemExit(f"{process.args!r} failed with exit code {process.returncode}")
    return dict(json.loads(lines[-1]))


# ------------------------------------------------------------------------------------ report


def report(context: dict[str, Any]) -> tuple[str, bool]:
    counts, fcm, stream, workers = context["counts"], context["fcm"], context["stream"], context["workers"]
    count = context["reminders"]
    elapsed = context["elapsed"]
    lost = count - counts["reminders_sent"]
    duplicated = counts["reminders_with_two_notifications"] + fcm["notifications_pushed_twice"]
    checks = {
        "0 lost": lost == 0 and counts["reminders_open"] == 0,
        "0 duplicated": duplicated == 0,
        "one notification, stream event and sent push per reminder": (
            counts["notifications"] == counts["reminders_with_their_own_notification"] == count
            and counts["stream_events"] == counts["push_deliveries_sent"] == count
        ),
        "one FCM request per notification": (
            fcm["requests"] == fcm["distinct_notifications"] == count and fcm["refused"] == 0
        ),
        "every sampled stream event received once": stream["missing"]
        == stream["unexpected"]
        == stream["duplicated"]
        == 0,
        f"within {BUDGET_SECONDS:.0f} s": elapsed <= BUDGET_SECONDS,
    }
    passed = all(checks.values())
    rows = [
        ("reminders due in the same minute", f"{count:,}"),
        ("workers (processes) × batch", f"{len(workers)} × 500"),
        ("time to dispatch all (inbox, stream, push answered)", f"{elapsed:.1f} s (budget {BUDGET_SECONDS:.0f} s)"),
        ("… last notification stored after", f"{context['last_sent']:.1f} s"),
        ("… last push received by FCM after", f"{fcm['last_at'] - context['started']:.1f} s"),
        (
            "from the first reminder's due moment (60 s before the start) to the last push sent",
            f"{context['due_to_sent']['first_due_to_last_sent']:.1f} s",
        ),
        (
            "each reminder, due moment → push sent: p50 / p99 / max",
            " / ".join(f"{context['due_to_sent'][name]:.1f} s" for name in ("p50", "p99", "max")),
        ),
        ("throughput", f"{count / elapsed:,.0f} reminders/s"),
        ("sent per worker", ", ".join(f"{worker['worker']}: {worker['sent']:,}" for worker in workers)),
        ("reminders sent / lost / still open", f"{counts['reminders_sent']:,} / {lost} / {counts['reminders_open']}"),
        (
            "notifications (one per reminder, its id as dedupe key)",
            f"{counts['reminders_with_their_own_notification']:,}",
        ),
        ("reminders with two notifications", str(counts["reminders_with_two_notifications"])),
        ("stream events", f"{counts['stream_events']:,}"),
        ("push deliveries sent", f"{counts['push_deliveries_sent']:,} of {counts['push_deliveries']:,}"),
        (
            "FCM requests / distinct notifications / pushed twice",
            (f"{fcm['requests']:,} / {fcm['distinct_notifications']:,} / {fcm['notifications_pushed_twice']}"),
        ),
        (
            "channel layer: sampled users / events / missing / duplicated",
            (
                f"{stream['sample_users']:,} / {stream['events_received']:,} / "
                f"{stream['missing']} / {stream['duplicated']}"
            ),
        ),
    ]
    cpu = context["cpu"]
    rows.append(
        (
            "CPU seconds: workers / their PostgreSQL backends / Redis / fake FCM / listener",
            " / ".join(f"{cpu[name]:.0f}" for name in ("workers", "postgresql", "redis", "fake_fcm", "listener")),
        )
    )
    rows.append(
        (
            "CPU per reminder: workers / their PostgreSQL backends",
            f"{cpu['workers'] * 1000 / count:.2f} ms / {cpu['postgresql'] * 1000 / count:.2f} ms",
        )
    )
    rows.append(
        (
            "other processes' share of the CPUs: before / during the run",
            f"{context['quiet_before']:.0%} / {context['other_cpu']:.0%}",
        )
    )
    table = "\n".join(["| measure | value |", "|---|---:|", *(f"| {name} | {value} |" for name, value in rows)])
    header = (
        f"Last run {context['date']} on PostgreSQL {context['postgresql']} and Redis {context['redis']} "
        f"(channel layer `RedisPubSubChannelLayer`), commit {context['revision']}; {os.cpu_count()} CPUs "
        f"({cpu_model()}), Python {platform.python_version()}; seeding {context['seed_seconds']:.0f} s (untimed)."
    )
    verdict = "; ".join(f"{name}: {'yes' if held else '**NO**'}" for name, held in checks.items()) + "."
    return f"{header}\n\n{table}\n\n{verdict}", passed


README_INTRO = f"""{README_SECTION}

```sh
bash .ci/services start && eval "$(bash .ci/services env)"
.venv/bin/python -m bench.reminders --write-readme      # --reminders 100000 --workers 2 --sample 2000
```

The issue's bar: 100,000 reminders due in the same minute dispatched (websocket and FCM push) within 90
seconds on two workers, 0 lost, 0 duplicated. `bench/reminders/__main__.py` seeds 100,000 citizens' users
in its own database, each with a login, an FCM install and one `reminder.training` due in the minute
ending at the start (one in five with quiet hours outside the run, one in ten with a preference), starts a fake
FCM server (asyncio, counting requests per notification id), a listener joined to 2,000 users' personal
stream groups on the Redis channel layer, and two worker processes running production's
`dispatch_reminders` command (`PUSH_MODE=fcm`, firebase-admin's messages sent by `push.FcmTransport`,
batches of up to 500),
and checks afterwards: one notification, one stream event and one sent push delivery per reminder (the
reminder's id as the dedupe key), one FCM request per notification, every sampled user's event received once.

"""


def write_readme(block: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    figures = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + figures + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + README_INTRO + figures + "\n"
    README.write_text(text)
    say(f"-- updated the reminder figures in {README.relative_to(ROOT)}")


# ------------------------------------------------------------------------------------ main


def prepared_run(database: RunDatabase, redis_url: str, run_directory: Path) -> tuple[dict[str, str], Path]:
    """The run directory with its log made anew, and the environment of the run's processes: its database,
    Redis, and pushes through FCM (the fake's)."""
    run_directory.mkdir(parents=True, exist_ok=True)
    log = run_directory / "run.log"
    log.write_text("")
    environment = run_environment(database.url, run_directory)
    environment.update(
        {
            "REDIS_URL": redis_url,
            "PUSH_MODE": "fcm",
            "FCM_PROJECT_ID": FCM_PROJECT,
            "LOG_LEVEL": "WARNING",
            # Every reminder is pushed as well as streamed: no open app takes the push's place.
            "PUSH_GRACE_SECONDS": "0",
        }
    )
    return environment, log


def migrated_and_seeded(environment: dict[str, str], log: Path, reminders: int, sample: int) -> tuple[list[str], float]:
    """Migrates the run's database, sets Django up on it in this process and seeds it (untimed): the sampled
    users' ids and the seconds the seeding took."""
    run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, log, 600)
    os.environ.update(environment)
    import django

    django.setup()
    from django.db import connection

    say(f"-- seeding {reminders:,} users, installs and reminders")
    seeding = time.monotonic()
    sample_ids, _ = seed(reminders, sample)
    seed_seconds = time.monotonic() - seeding
    say(f"   done in {seed_seconds:.1f}s")
    connection.close()
    return sample_ids, seed_seconds


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    database = Database(arguments.database_url, RUN_DIRECTORY)
    environment, log = prepared_run(database, arguments.redis_url, RUN_DIRECTORY)
    processes: list[subprocess.Popen[bytes]] = []
    say(f"-- database {BENCH_DATABASE} (log: {log.relative_to(ROOT)})")
    database.create()
    try:
        sample_ids, seed_seconds = migrated_and_seeded(environment, log, arguments.reminders, arguments.sample)
        from django.db import connection

        port_file, ready_file, users_file = (RUN_DIRECTORY / name for name in ("fcm.port", "listener.ready", "users"))
        for path in (port_file, ready_file):
            path.unlink(missing_ok=True)
        users_file.write_text("\n".join(sample_ids))
        fake_fcm = [sys.executable, "-m", "bench.reminders.fake_fcm", "--port-file", str(port_file)]
        fcm = start([*fake_fcm, "--port", str(free_port())], environment, log)
        processes.append(fcm)
        port = int(wait_for_file(port_file, fcm, 30))
        listener = start(
            [
                sys.executable,
                "-m",
                "bench.reminders.listener",
                "--users",
                str(users_file),
                "--ready-file",
                str(ready_file),
                "--expected",
                str(len(sample_ids)),
            ],
            environment,
            log,
        )
        processes.append(listener)
        wait_for_file(ready_file, listener, 120)

        quiet_before = wait_for_quiet(arguments.quiet_wait)
        say(f"-- dispatching with {arguments.workers} workers")
        started = time.time() + 3.0
        due_moments_end_at(started)
        workers = [
            start(
                [
                    sys.executable,
                    "-m",
                    "bench.reminders.worker",
                    "--worker-id",
                    f"worker-{number}",
                    "--fcm-url",
                    f"http://127.0.0.1:{port}",
                    "--project",
                    FCM_PROJECT,
                    "--start-at",
                    f"{started}",
                    *(["--profile", str(RUN_DIRECTORY / f"worker-{number}.prof")] if arguments.profile else []),
                ],
                environment,
                log,
            )
            for number in range(1, arguments.workers + 1)
        ]
        processes.extend(workers)
        time.sleep(max(0.0, started - time.time()))
        machine_before, redis_before = machine_jiffies(), redis_jiffies()
        results = [json_line(worker, timeout=900) for worker in workers]
        machine_after, redis_after = machine_jiffies(), redis_jiffies()
        elapsed = max(result["finished"] for result in results) - started
        say(f"   done in {elapsed:.1f}s")
        stream = json_line(listener, timeout=60, stop_after=30)

        counts = database_counts()
        last_sent = instant("SELECT max(created_at) FROM notifications_notification") or datetime.fromtimestamp(
            started, UTC
        )
        import redis

        context = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "postgresql": str(connection.cursor().connection.info.parameter_status("server_version")).split()[0],
            "redis": redis.Redis.from_url(arguments.redis_url).info("server")["redis_version"],
            "revision": git_revision(),
            "reminders": arguments.reminders,
            "started": started,
            "elapsed": elapsed,
            "last_sent": last_sent.timestamp() - started,
            "seed_seconds": seed_seconds,
            "workers": results,
            "counts": counts,
            "fcm": fcm_stats(port),
            "stream": listener_check(stream, sample_ids),
            "due_to_sent": due_to_sent(),
        }
        fcm_figures = context["fcm"]
        cpu = {
            "workers": sum(result["cpu_seconds"] for result in results),
            "postgresql": sum(result["database_cpu_seconds"] for result in results),
            "redis": (redis_after - redis_before) / TICKS_PER_SECOND,
            "fake_fcm": fcm_figures["cpu_seconds"],
            "listener": float(stream.get("cpu_seconds", 0.0)),
        }
        window = (machine_after[0] - machine_before[0]) / TICKS_PER_SECOND
        busy = window - (machine_after[1] - machine_before[1]) / TICKS_PER_SECOND
        context["cpu"] = cpu
        context["other_cpu"] = max(0.0, busy - sum(cpu.values())) / max(window, 1e-9)
        context["quiet_before"] = quiet_before
        block, passed = report(context)
        say("")
        say(block)
        if arguments.write_readme:
            write_readme(block)
        return 0 if passed else 1
    finally:
        for process in processes:
            stop(process)
        from django.db import connections

        connections.close_all()
        if not arguments.keep_database:
            database.drop()


if __name__ == "__main__":
    sys.exit(main())
