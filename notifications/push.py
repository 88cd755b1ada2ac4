"""Push delivery: pending ``PushDelivery`` rows are claimed by one worker, sent in batches, and recorded.

A row is claimed before it is sent (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
UPDATE elsewhere), so two workers never send the same delivery; a worker that dies holding a claim
loses nothing — the claim runs out and the row is sent by the next run. Payloads carry only the
allowlisted keys (type, id, version) and the recipient's neutral text, at most 4 KB.

``PUSH_MODE`` is ``fcm`` (FCM's HTTP v1 API with firebase-admin's messages, credential and errors, see
``FcmTransport``; batches of up to 500) or ``log``
(the embedded default: a log line instead of a push). Tokens FCM reports unregistered, invalid or
of another sender disable their install; transient errors are retried with exponential backoff.
"""

import functools
import http.client
import json
import logging
import os
import select
import socket
import ssl
import threading
import uuid
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import firebase_admin
import requests
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from firebase_admin import _http_client, credentials, exceptions, messaging

from backend import sql
from backend.access.declaration import declared
from backend.access.rules import Moments
from notifications.models import Notification, PushDelivery, PushInstall
from notifications.services.push_deliveries import PushClaim

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# Messages in flight at once per process, each on its own kept-alive connection to FCM.
FCM_CONNECTIONS = 64
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
CLAIM_LEASE = timedelta(minutes=5)
MAX_PAYLOAD_BYTES = 4096
ALLOWED_DATA_KEYS = frozenset({"type", "id", "version"})
PAYLOAD_VERSION = "1"
PUSH_TITLE = "Mestring"
FIREBASE_APP_NAME = "mestring-push"
LOG = "log"
FCM = "fcm"

SENT = "sent"
RETRY = "retry"
FAILED = "failed"
DISABLE = "disable"

_firebase_app_lock = threading.Lock()


class PushPayloadError(ValueError):
    """A push payload with keys outside the allowlist, or larger than FCM and the design allow."""


def push_mode() -> str:
    mode = getattr(settings, "PUSH_MODE", "") or (FCM if getattr(settings, "FCM_CREDENTIALS_FILE", "") else LOG)
    if mode not in (LOG, FCM):
        raise ImproperlyConfigured(f"PUSH_MODE must be {LOG!r} or {FCM!r}, not {mode!r}.")
    return mode


def firebase_app() -> firebase_admin.App:
    """The firebase-admin app that sends pushes, made once from ``FCM_CREDENTIALS_FILE``."""
    with _firebase_app_lock:
        try:
            return firebase_admin.get_app(FIREBASE_APP_NAME)
        except ValueError:
            pass
        path = getattr(settings, "FCM_CREDENTIALS_FILE", "")
        if not path:
            raise ImproperlyConfigured("PUSH_MODE is fcm, but FCM_CREDENTIALS_FILE is not set.")
        options: dict[str, Any] = {"httpTimeout": getattr(settings, "FCM_HTTP_TIMEOUT_SECONDS", 10)}
        project_id = getattr(settings, "FCM_PROJECT_ID", "")
        if project_id:
            options["projectId"] = project_id
        return firebase_admin.initialize_app(credentials.Certificate(path), options, name=FIREBASE_APP_NAME)


class FcmTransport:
    """FCM's HTTP v1 ``messages:send`` for one firebase-admin app, one request per message, sent from
    ``FCM_CONNECTIONS`` threads kept for the life of the process, each over its own kept-alive HTTP/1.1
    connection (``http.client``).

    ``send_each`` of firebase-admin starts a thread per message (up to 500 a batch) and sends each through
    ``requests`` with Google's authorised session; a connection pool (urllib3) in between still cost as much
    again as the request itself. This sends the same requests (firebase-admin encodes each message, the
    headers and the credential are the app's, the retry policy is firebase-admin's ``DEFAULT_RETRY_CONFIG``,
    counted by its own ``Retry``: a failed connect once, a request lost on its way once, 500 and 503 up to
    four times, and a 429 or 503 with ``Retry-After`` after the time it asks) and turns every error into
    firebase-admin's own exception for it, so that ``classify`` reads them as before. What a municipality's
    network needs is read from the environment once, as ``requests`` reads it: the proxy (``HTTPS_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY`` with names and CIDR ranges, lowercase too; a proxy without a scheme is
    ``http://``, and the user and password in its URL are sent to it as ``Proxy-Authorization``; FCM's
    https goes through the proxy's ``CONNECT`` tunnel) and the CA bundle (``REQUESTS_CA_BUNDLE``,
    ``CURL_CA_BUNDLE``: a file, or a directory of hashed certificates). ``FCM_HTTP_TIMEOUT_SECONDS`` bounds
    the connect and each read, of the messages and of the credential's renewal alike (Google's session does
    the same). The access token is renewed before a batch when it runs out, and once when FCM refuses it
    (401), by one thread for all that were refused with it."""

    def __init__(self, app: firebase_admin.App) -> None:
        import google.auth.transport.requests

        self.service = messaging._get_messaging_service(app)
        self.url: str = self.service._fcm_url
        self.credential = self.service._credential
        self.timeout = self.service._client.timeout
        self.route = fcm_route(self.url)
        self.tls = _tls_context() if urlsplit(self.url).scheme == "https" else None
        self.headers = {
            **self.service._fcm_headers,
            **_http_client.METRICS_HEADERS,
            **self.route.request_headers,
            "Content-Type": "application/json",
        }
        self.executor = ThreadPoolExecutor(max_workers=FCM_CONNECTIONS, thread_name_prefix="fcm")
        self._links = threading.local()  # each sending thread's connection to FCM
        self._auth_request = functools.partial(google.auth.transport.requests.Request(), timeout=self.timeout)
        self._auth_lock = threading.Lock()
        self.pid = os.getpid()

    def _authorization(self, *, refused: dict[str, str] | None = None) -> dict[str, str]:
        """The credential's headers, renewed first when its token has run out, or when FCM ``refused`` these
        headers and no other thread has renewed them since."""
        headers: dict[str, str] = {}
        with self._auth_lock:
            if refused is not None:
                current: dict[str, str] = {}
                self.credential.apply(current)
                if current.get("authorization") == refused.get("authorization"):
                    self.credential.refresh(self._auth_request)
            self.credential.before_request(self._auth_request, "POST", self.url, headers)
        return headers

    def send_each(self, messages: list[messaging.Message]) -> list[messaging.SendResponse]:
        """One response per message, in order; an error of one message is its response's exception."""
        documents = [json.dumps(self.service._message_data(message, False)).encode() for message in messages]
        headers = {**self.headers, **self._authorization()}
        return list(self.executor.map(lambda document: self._send(document, headers), documents))

    def _send(self, document: bytes, headers: dict[str, str]) -> messaging.SendResponse:
        for attempt in (1, 2):
            try:
                answer = self._post(document, headers)
            except requests.exceptions.RequestException as error:
                return messaging.SendResponse(None, self.service._handle_fcm_error(error))
            if answer.status == 401 and attempt == 1:
                # An access token that ran out in between: once more with a new one, as Google's session does.
                try:
                    headers = {**headers, **self._authorization(refused=headers)}
                except Exception:  # noqa: BLE001 — a credential that cannot refresh: the 401 is the answer
                    break
                continue
            break
        if 200 <= answer.status < 300:
            return messaging.SendResponse(json.loads(answer.body), None)
        response = requests.Response()
        response.status_code, response._content, response.url = answer.status, answer.body, self.url
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers.items())
        response.encoding = "utf-8"
        refused = requests.exceptions.HTTPError(f"{answer.status} from FCM", response=response)
        return messaging.SendResponse(None, self.service._handle_fcm_error(refused))

    def _post(self, document: bytes, headers: dict[str, str]) -> "_Answer":
        """FCM's answer to one message, after the retries firebase-admin's policy allows; a request that
        never got an answer raises the ``requests`` exception ``requests`` would have raised."""
        retries: urllib3.Retry = _http_client.DEFAULT_RETRY_CONFIG
        while True:
            try:
                answer = self._exchange(document, headers)
            except _Failed as failure:
                try:
                    retries = retries.increment("POST", self.url, error=failure.counted)
                except urllib3.exceptions.MaxRetryError:
                    raise failure.error from failure.__cause__
                retries.sleep()
                continue
            if not retries.is_retry("POST", answer.status, bool(answer.headers.get("Retry-After"))):
                return answer
            try:
                retries = retries.increment("POST", self.url, response=answer)  # type: ignore[arg-type]
            except urllib3.exceptions.MaxRetryError:
                return answer  # the policy does not raise on a status: the last answer is the answer
            retries.sleep(answer)  # type: ignore[arg-type]

    def _exchange(self, document: bytes, headers: dict[str, str]) -> "_Answer":
        """One request and its answer on this thread's connection (made, or made again, first)."""
        link: http.client.HTTPConnection | None = getattr(self._links, "link", None)
        if link is None or link.sock is None or _dropped(link.sock):
            if link is not None:
                link.close()
            link = self._connect()
            self._links.link = link
        try:
            link.request("POST", self.route.request_target, body=document, headers=headers)
            response = link.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            link.close()
            self._links.link = None
            timed_out = isinstance(error, TimeoutError)
            raise _Failed(
                urllib3.exceptions.ReadTimeoutError(None, self.url, str(error))  # type: ignore[arg-type]
                if timed_out
                else urllib3.exceptions.ProtocolError("Connection aborted.", error),
                requests.exceptions.ReadTimeout(error) if timed_out else requests.exceptions.ConnectionError(error),
            ) from error
        if response.will_close:
            link.close()
        return _Answer(response.status, response.headers, body)

    def _connect(self) -> http.client.HTTPConnection:
        route = self.route
        link = (
            http.client.HTTPSConnection(route.host, route.port, timeout=self.timeout, context=self.tls)
            if self.tls is not None
            else http.client.HTTPConnection(route.host, route.port, timeout=self.timeout)
        )
        if route.tunnel is not None:
            link.set_tunnel(*route.tunnel, headers=route.tunnel_headers)
        try:
            link.connect()
        except OSError as error:
            link.close()
            timed_out = isinstance(error, TimeoutError)
            raise _Failed(
                urllib3.exceptions.ConnectTimeoutError(str(error)),
                requests.exceptions.ConnectTimeout(error) if timed_out else requests.exceptions.ConnectionError(error),
            ) from error
        return link


@dataclass(frozen=True)
class _Answer:
    """FCM's answer to one request: what ``_send`` reads, and what urllib3's ``Retry`` reads to count it."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def get_redirect_location(self) -> None:
        return None  # FCM's answers are not followed anywhere (nor were they by firebase-admin's session)


class _Failed(Exception):
    """A request that got no answer: ``counted`` as urllib3's ``Retry`` counts it, ``error`` as ``requests``
    would have raised it."""

    def __init__(self, counted: urllib3.exceptions.HTTPError, error: requests.exceptions.RequestException) -> None:
        super().__init__(str(error))
        self.counted, self.error = counted, error


def _dropped(sock: socket.socket) -> bool:
    """A kept-alive connection the other end has closed (or sent something unasked on) is not used again:
    readable before a request is sent means closed, as urllib3 decides."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


@dataclass(frozen=True)
class FcmRoute:
    """Where the connections to FCM go: to FCM itself, or to a proxy (which opens a ``CONNECT`` tunnel to an
    https FCM, and is sent absolute URLs for a plain-http one); ``proxy_authorization`` the header it gets."""

    host: str
    port: int
    request_target: str
    tunnel: tuple[str, int] | None = None
    proxy_authorization: str = ""

    @property
    def tunnel_headers(self) -> dict[str, str]:
        return {"Proxy-Authorization": self.proxy_authorization} if self.proxy_authorization else {}

    @property
    def request_headers(self) -> dict[str, str]:
        """Headers of every request: the proxy's credentials when the proxy reads the requests themselves."""
        return self.tunnel_headers if self.tunnel is None and self.request_target.startswith("http") else {}


def fcm_route(url: str) -> FcmRoute:
    """The route to ``url`` through the proxy the environment names for it (as ``requests`` chooses one)."""
    target = urlsplit(url)
    host, scheme = target.hostname or "", target.scheme
    port = target.port or (443 if scheme == "https" else 80)
    path = f"{target.path}?{target.query}" if target.query else target.path
    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    if not proxy:
        return FcmRoute(host, port, path)
    proxy = requests.utils.prepend_scheme_if_needed(proxy, "http")
    parts = urlsplit(proxy)
    if parts.scheme != "http":
        # The scheme only: the proxy's URL may carry its password.
        raise ImproperlyConfigured(
            f"The proxy for FCM must be an http:// proxy (one that tunnels https), not {parts.scheme}://."
        )
    username, password = requests.utils.get_auth_from_url(proxy)
    authorization = (
        urllib3.util.make_headers(proxy_basic_auth=f"{username}:{password}")["proxy-authorization"] if username else ""
    )
    proxy_host, proxy_port = parts.hostname or "", parts.port or 80
    if scheme == "https":
        return FcmRoute(proxy_host, proxy_port, path, tunnel=(host, port), proxy_authorization=authorization)
    return FcmRoute(proxy_host, proxy_port, url, proxy_authorization=authorization)


def _tls_context() -> ssl.SSLContext:
    """Verifying with the CA bundle ``requests`` would verify with: the environment's file or directory, else
    certifi's."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or requests.certs.where()
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def fcm_transport(app: firebase_admin.App) -> FcmTransport:
    """The app's transport, made on its first batch (per process: the threads and connections are the
    process's own)."""
    service = messaging._get_messaging_service(app)
    transport = getattr(service, "_mestring_transport", None)
    if transport is None or transport.pid != os.getpid():
        with _firebase_app_lock:
            transport = getattr(service, "_mestring_transport", None)
            if transport is None or transport.pid != os.getpid():
                transport = FcmTransport(app)
                service._mestring_transport = transport
    return transport


@dataclass(frozen=True)
class PushPayload:
    data: dict[str, str]
    title: str
    body: str

    def size(self) -> int:
        document = {"data": self.data, "notification": {"title": self.title, "body": self.body}}
        return len(json.dumps(document, ensure_ascii=False).encode())


def push_payload(notification: Notification, locale: str) -> PushPayload:
    """The payload of one notification's push: its id and the neutral text, nothing else."""
    payload = PushPayload(
        data={"type": "notification", "id": str(notification.pk), "version": PAYLOAD_VERSION},
        title=PUSH_TITLE,
        body=notification.push_text(locale),
    )
    payload_check(payload)
    return payload


def payload_check(payload: PushPayload) -> None:
    unexpected = set(payload.data) - ALLOWED_DATA_KEYS
    if unexpected:
        raise PushPayloadError(f"Push data keys outside the allowlist: {sorted(unexpected)}.")
    if payload.size() > MAX_PAYLOAD_BYTES:
        raise PushPayloadError(f"A push payload is at most {MAX_PAYLOAD_BYTES} bytes.")


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    disabled: int = 0
    skipped: int = 0
    retry_at: datetime | None = None
    retry_notification_ids: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "disabled": self.disabled,
            "skipped": self.skipped,
        }


# What sending a claimed delivery reads: the rest of the four rows is left in the database.
CLAIMED_FIELDS = (
    "id",
    "attempts",
    "notification__id",
    "notification__recipient_id",
    "notification__read_at",
    "notification__streamed_at",
    "notification__push_text_da",
    "notification__push_text_en",
    "install__id",
    "install__user_id",
    "install__user__is_active",
    "install__is_active",
    "install__fcm_token",
    "install__locale",
    "install__session__id",
    "install__session__revoked_at",
    "install__session__expires_at",
)


def _due(now: datetime) -> Q:
    pending = Q(status=PushDelivery.Status.PENDING, next_attempt_at__lte=now)
    abandoned = Q(status=PushDelivery.Status.SENDING, claimed_until__lt=now)
    return pending | abandoned


def deliveries_claim(
    *, now: datetime, notification_ids: Sequence[Any] | None = None, limit: int = BATCH_SIZE
) -> list[PushDelivery]:
    """Claim up to ``limit`` due deliveries for this run; a row is held by one run at a time."""
    claim = uuid.uuid4().hex
    due = PushDelivery.objects.filter(_due(now))
    if notification_ids is not None:
        due = due.filter(notification_id__in=list(notification_ids))
    claimed = {
        "status": PushDelivery.Status.SENDING,
        "claim": claim,
        "claimed_until": now + CLAIM_LEASE,
        "attempts": F("attempts") + 1,
    }
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(
                due.select_for_update(skip_locked=True).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
            )
            PushDelivery.objects.filter(pk__in=ids).update(**claimed)
    else:
        ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
        # The condition is checked again by the UPDATE itself: of two runs, only one changes a row.
        PushDelivery.objects.filter(_due(now), pk__in=ids).update(**claimed)
    return _held_by(claim)


def _held_by(claim: str) -> list[PushDelivery]:
    """The deliveries this claim holds, with what sending them reads."""
    return list(
        PushDelivery.objects.filter(claim=claim, status=PushDelivery.Status.SENDING)
        .select_related("notification", "install", "install__session", "install__user")
        .only(*CLAIMED_FIELDS)
    )


def delivery_claim() -> PushClaim:
    """A claim for deliveries about to be made (``notify_each``'s ``push_claim``), held as long as a claim by
    ``deliveries_claim``."""
    return PushClaim(token=uuid.uuid4().hex, lease=CLAIM_LEASE)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def _install_reachable(delivery: PushDelivery, now: datetime) -> bool:
    """At sending time: the install is active and the recipient's, its login still signed in and its user
    still able to log in (the access declaration's session and user rules)."""
    install = delivery.install
    session = install.session
    declaration = declared()
    moments = Moments(now=now)
    return (
        install.is_active
        and install.user_id == delivery.notification.recipient_id
        and session is not None
        and declaration.session.holds(session, moments)
        and declaration.user.holds(install.user, moments)
    )


def _is_about_the_token(error: exceptions.FirebaseError) -> bool:
    response = getattr(error, "http_response", None)
    try:
        body = response.json() if response is not None else {}
    except ValueError:
        body = {}
    details = body.get("error", {}).get("details", []) if isinstance(body, dict) else []
    for detail in details if isinstance(details, list) else []:
        for violation in detail.get("fieldViolations", []) if isinstance(detail, dict) else []:
            if "token" in str(violation.get("field", "")):
                return True
    return "registration token" in str(error).lower()


def classify(error: BaseException) -> tuple[str, str]:
    """What to do about one message's error: disable the install, give up, or retry later."""
    if isinstance(error, messaging.UnregisteredError):
        return DISABLE, PushInstall.DisabledReason.UNREGISTERED
    if isinstance(error, messaging.SenderIdMismatchError):
        return DISABLE, PushInstall.DisabledReason.SENDER_ID_MISMATCH
    if isinstance(error, exceptions.InvalidArgumentError):
        if _is_about_the_token(error):
            return DISABLE, PushInstall.DisabledReason.INVALID_TOKEN
        return FAILED, "invalid_argument"
    code = error.code if isinstance(error, exceptions.FirebaseError) else type(error).__name__
    return RETRY, str(code)[:60]


def _send(batch: list[tuple[PushDelivery, PushPayload]]) -> list[tuple[str, str, str]]:
    """(outcome, reason, message id) per delivery, in order."""
    if push_mode() == LOG:
        for delivery, payload in batch:
            logger.info(
                "push (log mode) install=%s notification=%s data=%s text=%r",
                delivery.install_id,
                delivery.notification_id,
                json.dumps(payload.data, sort_keys=True),
                payload.body,
            )
        return [(SENT, "", "log") for _ in batch]
    with warnings.catch_warnings():
        # firebase-admin 7.5 prefers installation ids (``fid``); registration tokens are still accepted.
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        messages = [
            messaging.Message(
                token=delivery.install.fcm_token,
                data=payload.data,
                notification=messaging.Notification(title=payload.title, body=payload.body),
            )
            for delivery, payload in batch
        ]
    try:
        responses = fcm_transport(firebase_app()).send_each(messages)
    except Exception as error:
        logger.warning("push batch of %d not sent: %s", len(messages), type(error).__name__)
        return [(RETRY, type(error).__name__[:60], "") for _ in batch]
    results = []
    for item in responses:
        if item.success:
            results.append((SENT, "", str(item.message_id or "")[:200]))
        else:
            outcome, reason = classify(item.exception)
            results.append((outcome, reason, ""))
    return results


def _record_sent_orm(sent: list[tuple[int, str]], now: datetime) -> None:
    """``_record_sent`` through the ORM: two statements and one more per batch of message ids."""
    PushDelivery.objects.filter(pk__in=[pk for pk, _ in sent]).update(
        status=PushDelivery.Status.SENT, sent_at=now, claim=""
    )
    PushDelivery.objects.bulk_update(
        [PushDelivery(pk=pk, message_id=message_id) for pk, message_id in sent], ["message_id"]
    )


def _record_sent(sent: list[tuple[int, str]], now: datetime) -> None:
    """Mark deliveries sent, each with its own message id: one statement per batch where the database can
    update from a list of values, the status, time and claim being the same for every row."""
    if connection.vendor not in ("postgresql", "sqlite"):
        _record_sent_orm(sent, now)
        return
    deliveries, key = sql.table(PushDelivery), sql.column(PushDelivery, "id")
    assignments = ", ".join(f"{sql.column(PushDelivery, name)} = %s" for name in ("status", "sent_at", "claim"))
    message_id = sql.column(PushDelivery, "message_id")
    sent_at = PushDelivery._meta.get_field("sent_at").get_db_prep_save(now, connection)
    for start in range(0, len(sent), BATCH_SIZE):
        chunk = sent[start : start + BATCH_SIZE]
        rows = ", ".join([f"({sql.placeholders(2)})"] * len(chunk))
        # VALUES names its columns column1, column2 on both databases.
        statement = (
            f"UPDATE {deliveries} SET {assignments}, {message_id} = listed.column2 "  # noqa: S608
            f"FROM (VALUES {rows}) AS listed WHERE {deliveries}.{key} = listed.column1"
        )
        parameters: list[Any] = [PushDelivery.Status.SENT, sent_at, ""]
        for pk, sent_message_id in chunk:
            parameters.extend((pk, sent_message_id))
        with connection.cursor() as cursor:
            cursor.execute(statement, parameters)


def _record(results: Iterable[tuple[PushDelivery, str, str, str]], now: datetime, report: DeliveryReport) -> None:
    sent: list[tuple[int, str]] = []
    sent_notification_ids: set[uuid.UUID] = set()
    disabled_installs: dict[str, set[uuid.UUID]] = defaultdict(set)
    failed: dict[str, list[int]] = defaultdict(list)
    retried: dict[tuple[int, str], list[PushDelivery]] = defaultdict(list)
    for delivery, outcome, reason, message_id in results:
        if outcome == SENT:
            sent.append((delivery.pk, message_id))
            sent_notification_ids.add(delivery.notification_id)
        elif outcome == DISABLE:
            disabled_installs[reason].add(delivery.install_id)
            logger.info("push install %s disabled: %s", delivery.install_id, reason)
        elif outcome == RETRY and delivery.attempts < MAX_ATTEMPTS:
            retried[(delivery.attempts, reason)].append(delivery)
        else:
            failed[reason].append(delivery.pk)
            logger.warning("push delivery %s failed for good: %s", delivery.pk, reason)
    with transaction.atomic():
        if sent:
            _record_sent(sent, now)
            Notification.objects.filter(pk__in=sent_notification_ids, delivered_at__isnull=True).update(
                delivered_at=now
            )
        for reason, install_ids in disabled_installs.items():
            PushInstall.objects.filter(pk__in=install_ids).update(
                is_active=False, disabled_at=now, disabled_reason=reason
            )
            PushDelivery.objects.filter(
                install_id__in=install_ids,
                status__in=[PushDelivery.Status.PENDING, PushDelivery.Status.SENDING],
            ).update(status=PushDelivery.Status.DISABLED, last_error=reason, claim="")
        for reason, delivery_ids in failed.items():
            PushDelivery.objects.filter(pk__in=delivery_ids).update(
                status=PushDelivery.Status.FAILED, last_error=reason, claim=""
            )
        for (attempts, reason), deliveries in retried.items():
            next_attempt_at = now + _backoff(attempts)
            PushDelivery.objects.filter(pk__in=[delivery.pk for delivery in deliveries]).update(
                status=PushDelivery.Status.PENDING,
                next_attempt_at=next_attempt_at,
                last_error=reason,
                claim="",
                claimed_until=None,
            )
            report.retry_at = min(filter(None, [report.retry_at, next_attempt_at]))
            report.retry_notification_ids.update(str(delivery.notification_id) for delivery in deliveries)
    report.sent += len(sent)
    report.disabled += sum(len(install_ids) for install_ids in disabled_installs.values())
    report.failed += sum(len(ids) for ids in failed.values())
    report.retried += sum(len(deliveries) for deliveries in retried.values())


def _dispatch(batch: list[PushDelivery], now: datetime, report: DeliveryReport) -> None:
    to_send: list[tuple[PushDelivery, PushPayload]] = []
    skipped: list[int] = []
    unreachable: list[int] = []
    refused: list[int] = []
    for delivery in batch:
        if delivery.notification.read_at is not None or delivery.notification.streamed_at is not None:
            skipped.append(delivery.pk)
        elif not _install_reachable(delivery, now):
            unreachable.append(delivery.pk)
        else:
            try:
                to_send.append((delivery, push_payload(delivery.notification, delivery.install.locale)))
            except PushPayloadError:
                logger.exception("push delivery %s has a payload that may not be sent", delivery.pk)
                refused.append(delivery.pk)
    PushDelivery.objects.filter(pk__in=skipped).update(status=PushDelivery.Status.SKIPPED, claim="")
    PushDelivery.objects.filter(pk__in=unreachable).update(status=PushDelivery.Status.DISABLED, claim="")
    PushDelivery.objects.filter(pk__in=refused).update(
        status=PushDelivery.Status.FAILED, last_error="payload_refused", claim=""
    )
    report.failed += len(refused)
    report.skipped += len(skipped)
    report.disabled += len(unreachable)
    if to_send:
        outcomes = _send(to_send)
        _record([(delivery, *outcome) for (delivery, _), outcome in zip(to_send, outcomes, strict=True)], now, report)


def push_deliver_claimed(*, claim: PushClaim, now: datetime | None = None) -> DeliveryReport:
    """Send the deliveries stored already held by ``claim`` (``notify_each``'s ``push_claim``), in batches
    of up to 500, without claiming them again. Those the claim did not take (not due yet) are left."""
    now = now or timezone.now()
    report = DeliveryReport()
    held = _held_by(claim.token)
    for start in range(0, len(held), BATCH_SIZE):
        _dispatch(held[start : start + BATCH_SIZE], now, report)
    return report


def push_deliver(*, notification_ids: Sequence[Any] | None = None, now: datetime | None = None) -> DeliveryReport:
    """Send every due delivery (of these notifications, or all), in batches of up to 500. Safe to run twice."""
    now = now or timezone.now()
    report = DeliveryReport()
    while batch := deliveries_claim(now=now, notification_ids=notification_ids, limit=BATCH_SIZE):
        _dispatch(batch, now, report)
    return report
