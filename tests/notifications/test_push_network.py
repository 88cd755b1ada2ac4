"""The push transport on a municipality's network: the proxy and CA bundle of the environment, the access
token's renewal and its timeout, and FCM's own ``Retry-After``, against a fake FCM server and a fake proxy on
loopback. What ``requests`` (and so firebase-admin's ``send_each``) would do is the measure."""

import ipaddress
import ssl
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import firebase_admin
import google.auth.credentials
import google.auth.transport.requests
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured
from firebase_admin import messaging

from notifications import push
from notifications.models import PushDelivery
from tests import factories
from tests.notifications.conftest import fcm_serving, firebase_app_start, install_for
from tests.notifications.fake_fcm import ACCESS_TOKEN, FakeFcm
from tests.notifications.fake_proxy import FakeProxy
from tests.notifications.test_push import TOKEN, delivery_of, notify_citizen

pytestmark = pytest.mark.django_db

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
FCM_HOST_URL = "https://fcm.googleapis.com/v1/projects/mestring-test/messages:send"


@pytest.fixture(autouse=True)
def network_environment(monkeypatch):
    """No proxy or CA bundle but what a test sets (upper and lower case)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _send_one(world, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    report = push.push_deliver()
    return report, delivery_of(notification, install)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_pushes_go_through_the_proxy_the_environment_names(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch, variable
):
    with FakeProxy() as proxy:
        monkeypatch.setenv(variable, f"http://{proxy.address}")
        report, delivery = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert delivery.status == PushDelivery.Status.SENT
    assert [item.url for item in proxy.forwarded] == [fcm.url_template.format("mestring-test")]
    assert len(fcm.delivered(TOKEN)) == 1


def test_the_user_and_password_in_the_proxy_url_are_given_to_the_proxy(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch
):
    with FakeProxy(credentials=("kommune\\svc-push", "hemmeligt kodeord")) as proxy:
        # As a URL carries them: percent-encoded.
        monkeypatch.setenv("HTTP_PROXY", f"http://kommune%5Csvc-push:hemmeligt%20kodeord@{proxy.address}")
        report, _ = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert proxy.refused == 0
    assert len(proxy.forwarded) == 1


def test_a_proxy_that_wants_a_password_and_gets_none_leaves_the_push_for_later(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch
):
    with FakeProxy(credentials=("kommune", "hemmelig")) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.address}")
        report, delivery = _send_one(world, django_capture_on_commit_callbacks)
    assert (report.sent, report.retried) == (0, 1)
    assert delivery.status == PushDelivery.Status.PENDING
    assert proxy.refused == 1
    assert fcm.received == []


def test_a_proxy_given_without_a_scheme_is_an_http_proxy(world, fcm, django_capture_on_commit_callbacks, monkeypatch):
    with FakeProxy() as proxy:
        monkeypatch.setenv("http_proxy", proxy.address)
        report, _ = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert len(proxy.forwarded) == 1


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
@pytest.mark.parametrize("excluded", ["intranet.kommune.dk,127.0.0.1", "intranet.kommune.dk, 127.0.0.0/8", "*"])
def test_hosts_in_no_proxy_are_reached_directly(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch, variable, excluded
):
    with FakeProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.address}")
        monkeypatch.setenv(variable, excluded)
        report, _ = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert proxy.forwarded == []
    assert len(fcm.delivered(TOKEN)) == 1


# --- FCM itself over HTTPS: verified with the environment's CA bundle, reached through a proxy's tunnel -----


@dataclass(frozen=True)
class Authority:
    """A municipality's own certificate authority (as an inspecting proxy or a private FCM relay has): its
    certificate as a file and in a directory of hashed names, and a server context for 127.0.0.1 signed by it."""

    file: Path
    directory: Path
    server: ssl.SSLContext


def _certificate(subject: str, public_key, issuer: str, signing_key, *, authority: bool) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
    )
    if authority:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture
def authority(tmp_path) -> Authority:
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Kommunens CA", ca_key.public_key(), "Kommunens CA", ca_key, authority=True)
    leaf = _certificate("127.0.0.1", server_key.public_key(), "Kommunens CA", ca_key, authority=False)
    ca_file = tmp_path / "kommune-ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    subject_hash = subprocess.run(  # noqa: S603 — OpenSSL's own name for the certificate in a CA directory
        ["/usr/bin/openssl", "x509", "-hash", "-noout", "-in", str(ca_file)], check=True, capture_output=True, text=True
    ).stdout.strip()
    directory = tmp_path / "certs"
    directory.mkdir()
    (directory / f"{subject_hash}.0").write_bytes(ca_file.read_bytes())
    chain = tmp_path / "server.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain)
    return Authority(ca_file, directory, server)


@pytest.fixture
def fcm_https(authority, settings, monkeypatch):
    """The fake FCM over https with a certificate of the municipality's authority, as ``fcm`` sets it up."""
    with FakeFcm(tls=authority.server) as server, fcm_serving(server, settings, monkeypatch):
        yield server


@pytest.mark.parametrize(("variable", "form"), [("REQUESTS_CA_BUNDLE", "directory"), ("CURL_CA_BUNDLE", "file")])
def test_fcm_over_https_is_verified_with_the_ca_bundle_of_the_environment(
    world, fcm_https, authority, django_capture_on_commit_callbacks, monkeypatch, variable, form
):
    monkeypatch.setenv(variable, str(getattr(authority, form)))
    report, delivery = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert delivery.status == PushDelivery.Status.SENT
    assert len(fcm_https.delivered(TOKEN)) == 1


def test_fcm_with_a_certificate_no_trusted_authority_signed_gets_nothing(
    world, fcm_https, django_capture_on_commit_callbacks
):
    report, delivery = _send_one(world, django_capture_on_commit_callbacks)  # certifi's authorities only
    assert (report.sent, report.retried) == (0, 1)
    assert delivery.status == PushDelivery.Status.PENDING
    assert fcm_https.received == []


def test_https_fcm_is_reached_through_the_proxys_tunnel_with_its_credentials(
    world, fcm_https, authority, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(authority.directory))
    with FakeProxy(credentials=("kommune\\svc-push", "hemmeligt kodeord")) as proxy:
        monkeypatch.setenv("https_proxy", f"kommune%5Csvc-push:hemmeligt%20kodeord@{proxy.address}")
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # for http only: not used for FCM's https
        report, _ = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert [(item.method, item.url) for item in proxy.tunnels] == [("CONNECT", fcm_https.address)]
    assert proxy.refused == 0
    assert proxy.forwarded == [], "the proxy saw only the tunnel, not the request"
    assert len(fcm_https.delivered(TOKEN)) == 1


def test_https_fcm_in_a_no_proxy_range_is_reached_directly(
    world, fcm_https, authority, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setenv("CURL_CA_BUNDLE", str(authority.file))
    with FakeProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", f"http://{proxy.address}")
        monkeypatch.setenv("no_proxy", "intranet.kommune.dk, 127.0.0.0/8")
        report, _ = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert proxy.tunnels == []
    assert len(fcm_https.delivered(TOKEN)) == 1


@pytest.fixture
def fcm_app():
    app = firebase_app_start()
    try:
        yield app
    finally:
        firebase_admin.delete_app(app)


def _transport(app: firebase_admin.App) -> push.FcmTransport:
    transport = push.FcmTransport(app)
    assert transport.url == FCM_HOST_URL
    return transport


def test_fcm_is_reached_through_https_proxy_with_its_credentials(fcm_app, monkeypatch):
    path = "/v1/projects/mestring-test/messages:send"
    monkeypatch.setenv("https_proxy", "proxy.kommune.dk:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://only-for-http.kommune.dk:8080")
    assert _transport(fcm_app).route == push.FcmRoute(
        "proxy.kommune.dk", 3128, path, tunnel=("fcm.googleapis.com", 443)
    )

    monkeypatch.setenv("https_proxy", "http://svc:pa%24%24@proxy.kommune.dk:3128")
    transport = _transport(fcm_app)
    assert transport.route.tunnel_headers == {"Proxy-Authorization": "Basic c3ZjOnBhJCQ="}  # svc:pa$$
    assert "Proxy-Authorization" not in transport.headers, "inside the tunnel FCM would see the proxy's password"


def test_fcm_is_reached_directly_when_no_proxy_names_it(fcm_app, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.kommune.dk:3128")
    monkeypatch.setenv("NO_PROXY", ".googleapis.com")
    route = _transport(fcm_app).route
    assert (route.host, route.port, route.tunnel) == ("fcm.googleapis.com", 443, None)


def test_a_proxy_that_wants_tls_itself_is_refused_with_a_reason_and_the_push_waits(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    monkeypatch.setenv("HTTP_PROXY", "https://proxy.kommune.dk:3129")
    with pytest.raises(ImproperlyConfigured, match="http:// proxy"):
        push.fcm_route(fcm.url_template.format("mestring-test"))
    report, delivery = _send_one(world, django_capture_on_commit_callbacks)
    assert (report.sent, report.retried) == (0, 1)
    assert delivery.status == PushDelivery.Status.PENDING
    assert fcm.received == []


# --- The access token ---------------------------------------------------------------------------------------


class ExpiringCredential(google.auth.credentials.Credentials):
    """An access token that ran out at ``expiry`` (or that FCM no longer takes), renewed by ``refresh``."""

    def __init__(self, *, expiry: datetime | None = None) -> None:
        super().__init__()
        self.token = "an-access-token-that-ran-out"
        self.expiry = expiry
        self.renewals = 0
        self.timeouts: list[object] = []

    def refresh(self, request) -> None:
        self.timeouts.append(getattr(request, "keywords", {}).get("timeout"))
        self.token = ACCESS_TOKEN
        self.expiry = None
        self.renewals += 1


def _use(credential: google.auth.credentials.Credentials, monkeypatch) -> None:
    service = messaging._get_messaging_service(firebase_admin.get_app(push.FIREBASE_APP_NAME))
    monkeypatch.setattr(service, "_credential", credential)


def test_a_token_that_ran_out_is_renewed_before_the_batch_within_the_fcm_timeout(
    world, fcm, django_capture_on_commit_callbacks, monkeypatch
):
    credential = ExpiringCredential(expiry=datetime(2020, 1, 1, tzinfo=UTC).replace(tzinfo=None))
    _use(credential, monkeypatch)
    report, _ = _send_one(world, django_capture_on_commit_callbacks)
    assert report.sent == 1
    assert credential.renewals == 1
    assert [item.answered for item in fcm.requests_for(TOKEN)] == ["ok"], "no request went out with the old token"
    # The renewal is bounded as the messages are (Google's own session passes the request's timeout on).
    assert credential.timeouts == [5]


def test_a_batch_refused_for_its_token_renews_it_once(world, fcm, django_capture_on_commit_callbacks, monkeypatch):
    count = 40
    user = factories.CitizenFactory().user
    for index in range(count):
        install_for(user, f"fcm-token-renewal-{index:03d}:APA91bHun4MxP5eg")
    credential = ExpiringCredential()  # no expiry known: FCM's 401 is the first sign
    _use(credential, monkeypatch)
    fcm.delay = 0.2  # every message of the batch in flight, and refused, at once
    notify_citizen(world, django_capture_on_commit_callbacks, recipients=[user])
    assert push.push_deliver().sent == count
    assert credential.renewals == 1
    assert len(fcm.delivered()) == count


def test_the_token_renewal_uses_googles_request_with_the_timeout(fcm_app, monkeypatch):
    transport = _transport(fcm_app)
    assert isinstance(transport._auth_request.func, google.auth.transport.requests.Request)
    assert transport._auth_request.keywords == {"timeout": 5}


# --- FCM's Retry-After --------------------------------------------------------------------------------------


def test_a_429_with_retry_after_is_sent_again_by_the_transport_itself(world, fcm, django_capture_on_commit_callbacks):
    install = install_for(world.citizen.user, TOKEN)
    fcm.fail(TOKEN, "QUOTA_EXCEEDED_RETRY_AFTER", "QUOTA_EXCEEDED_RETRY_AFTER")
    notification = notify_citizen(world, django_capture_on_commit_callbacks)
    assert push.push_deliver().sent == 1
    assert [item.answered for item in fcm.requests_for(TOKEN)] == [
        "QUOTA_EXCEEDED_RETRY_AFTER",
        "QUOTA_EXCEEDED_RETRY_AFTER",
        "ok",
    ]
    assert delivery_of(notification, install).status == PushDelivery.Status.SENT
