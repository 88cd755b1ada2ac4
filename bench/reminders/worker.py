"""One reminder dispatcher process of the benchmark: production's ``dispatch_reminders`` command, with
firebase-admin pointed at the fake FCM server on loopback.

    python -m bench.reminders.worker --worker-id one --fcm-url http://127.0.0.1:PORT --start-at EPOCH [--profile F]

Waits until ``--start-at`` (so that both workers start together), then runs passes of the command until
no due reminder is left, scheduled or claimed by anybody, and prints one JSON line with what it did and
the CPU time it and its PostgreSQL backend used.
"""

import argparse
import cProfile
import io
import json
import os
import resource
import time
from pathlib import Path

import django


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process on this machine (the worker's PostgreSQL backend), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--fcm-url", required=True)
    parser.add_argument("--project", default="mestring-bench")
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--profile", type=Path, help="write cProfile statistics (CPU time) of the passes here")
    arguments = parser.parse_args()

    django.setup()
    import firebase_admin
    import google.oauth2.credentials
    from django.core.management import call_command
    from django.utils import timezone
    from firebase_admin import credentials, messaging

    from bench.reminders.fake_fcm import ACCESS_TOKEN
    from notifications import push
    from notifications.models import ReminderOccurrence

    class StaticTokenCredential(credentials.Base):
        """A fixed access token, so that the client never asks Google for one."""

        def get_credential(self) -> google.oauth2.credentials.Credentials:
            return google.oauth2.credentials.Credentials(token=ACCESS_TOKEN)

    messaging._MessagingService.FCM_URL = f"{arguments.fcm_url}/v1/projects/{{0}}/messages:send"
    firebase_admin.initialize_app(
        StaticTokenCredential(), {"projectId": arguments.project, "httpTimeout": 30}, name=push.FIREBASE_APP_NAME
    )
    open_statuses = [ReminderOccurrence.Status.SCHEDULED, ReminderOccurrence.Status.CLAIMED]

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = int(cursor.fetchone()[0])
    time.sleep(max(0.0, arguments.start_at - time.time()))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before, backend_before = usage.ru_utime + usage.ru_stime, process_cpu_seconds(backend)
    started = time.time()
    sent = passes = 0
    profiler = cProfile.Profile(time.process_time) if arguments.profile else None
    if profiler is not None:
        profiler.enable()
    while time.time() - started < arguments.timeout:
        output = io.StringIO()
        call_command("dispatch_reminders", worker_id=arguments.worker_id, stdout=output)
        passes += 1
        sent += int(output.getvalue().split()[0])
        if not ReminderOccurrence.objects.filter(status__in=open_statuses, due_at__lte=timezone.now()).exists():
            break
        time.sleep(0.2)
    finished = time.time()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(arguments.profile)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "worker": arguments.worker_id,
        "sent": sent,
        "passes": passes,
        "started": started,
        "finished": finished,
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
        "database_cpu_seconds": process_cpu_seconds(backend) - backend_before,
        "database_backend": backend,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
