"""CPU per push message: firebase-admin's ``send_each`` against ``notifications.push.FcmTransport``, in one
process, interleaved batch by batch, against the reminder benchmark's fake FCM server on loopback.

    .venv/bin/python -m bench.reminders.send_cost [--batches 6] [--size 500]

Needs only the Django settings (no database): both sides send the same 500 messages per batch with the same
firebase-admin app. ``send_each`` gets the pool of as many connections as a batch has messages that
production used to mount for it, so neither side opens connections the other does not. Prints each batch's
CPU per message (the process's user + system time, its threads included) and, per pair, the ratio.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=6, help="batches per side, interleaved (6)")
    parser.add_argument("--size", type=int, default=500, help="messages per batch (500)")
    arguments = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import firebase_admin
    import google.oauth2.credentials
    import requests
    from firebase_admin import _http_client, credentials, messaging

    from bench.__main__ import free_port
    from bench.reminders.fake_fcm import ACCESS_TOKEN
    from notifications import push

    port_file = Path(tempfile.mkdtemp()) / "fcm.port"
    fake_fcm = [sys.executable, "-m", "bench.reminders.fake_fcm", "--port-file", str(port_file)]
    server = subprocess.Popen([*fake_fcm, "--port", str(free_port())])
    try:
        while not (port_file.exists() and port_file.read_text().strip()):
            time.sleep(0.1)
        port = int(port_file.read_text())

        class StaticToken(credentials.Base):
            def get_credential(self) -> google.oauth2.credentials.Credentials:
                return google.oauth2.credentials.Credentials(token=ACCESS_TOKEN)

        messaging._MessagingService.FCM_URL = f"http://127.0.0.1:{port}/v1/projects/{{0}}/messages:send"
        app = firebase_admin.initialize_app(StaticToken(), {"projectId": "bench", "httpTimeout": 30}, name="cost")
        service = messaging._get_messaging_service(app)
        service._client.session.mount(
            f"http://127.0.0.1:{port}",
            requests.adapters.HTTPAdapter(
                pool_connections=1, pool_maxsize=arguments.size, max_retries=_http_client.DEFAULT_RETRY_CONFIG
            ),
        )
        transport = push.fcm_transport(app)
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)

        def batch(label: str) -> list[messaging.Message]:
            return [
                messaging.Message(
                    token=f"bench-token-{label}-{index}",
                    data={"type": "notification", "id": f"{label}-{index}", "version": push.PAYLOAD_VERSION},
                    notification=messaging.Notification(title=push.PUSH_TITLE, body="Du har en ny påmindelse."),
                )
                for index in range(arguments.size)
            ]

        costs: dict[str, list[float]] = {"send_each": [], "FcmTransport": []}
        for number in range(arguments.batches + 1):  # the first pair warms both up and is not counted
            for name in costs:
                messages = batch(f"{name}-{number}")
                before = cpu_seconds()
                if name == "send_each":
                    answers = messaging.send_each(messages, app=app).responses
                else:
                    answers = transport.send_each(messages)
                spent = (cpu_seconds() - before) * 1000 / arguments.size
                if not all(answer.success for answer in answers):
                    raise SystemExit(f"{name}: not every message was accepted")
                if number:
                    costs[name].append(spent)
        ratios = [new / old for new, old in zip(costs["FcmTransport"], costs["send_each"], strict=True)]
        for name, values in costs.items():
            print(f"{name}: CPU ms per message, each batch: {', '.join(f'{value:.2f}' for value in values)}; "
                  f"median {statistics.median(values):.2f}")  # fmt: skip
        print(f"FcmTransport / send_each, per pair: {', '.join(f'{value:.2f}' for value in ratios)}; "
              f"median {statistics.median(ratios):.2f}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
