"""The scale-out layout (bench/scaleout) and the mixed load (bench/mixed).

The nginx configuration derived from deploy/nginx/mestring.conf is checked everywhere. The short forms of
``python -m bench.scaleout`` and ``python -m bench.mixed`` run only in the PostgreSQL + Redis pass
(``DATABASE_URL`` naming PostgreSQL and ``REDIS_URL`` set), and there they fail, not skip, without nginx.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scaleout.layout import DEPLOY_SITE, LayoutError, nginx_binary, nginx_config, nginx_site

ROOT = Path(__file__).resolve().parent.parent
POSTGRESQL_AND_REDIS = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")) and bool(
    os.environ.get("REDIS_URL")
)
WEB = ["127.0.0.1:27461", "127.0.0.1:27462"]
WS = ["127.0.0.1:27463", "127.0.0.1:27464"]


def site(tmp_path: Path) -> str:
    return nginx_site(DEPLOY_SITE.read_text(), listen_port=27460, web=WEB, ws=WS, directory=tmp_path)


def upstream(text: str, name: str) -> str:
    return text.split(f"upstream {name} {{", 1)[1].split("}", 1)[0]


def test_the_local_site_has_two_servers_in_each_upstream_and_keeps_the_deploy_routing(tmp_path):
    text = site(tmp_path)
    assert [line.strip() for line in upstream(text, "mestring_http").splitlines() if "server" in line] == [
        f"server {address};" for address in WEB
    ]
    assert [line.strip() for line in upstream(text, "mestring_ws").splitlines() if "server" in line] == [
        f"server {address};" for address in WS
    ]
    assert "keepalive" not in upstream(text, "mestring_http")
    assert "listen 127.0.0.1:27460;" in text
    assert "ssl" not in text and "443" not in text and "return 301" not in text
    assert f"access_log {tmp_path / 'access.log'} mestring;" in text
    deploy = DEPLOY_SITE.read_text()
    for line in ("location /ws/ {", "proxy_set_header Upgrade           $http_upgrade;", "location /api/ {"):
        assert line in deploy and line in text


def test_the_whole_config_wraps_the_site_in_http_with_its_files_in_the_run_directory(tmp_path):
    text = nginx_config(DEPLOY_SITE.read_text(), listen_port=27460, web=WEB, ws=WS, directory=tmp_path)
    assert "daemon off;" in text and f"pid {tmp_path / 'nginx.pid'};" in text
    assert f"proxy_temp_path {tmp_path / 'tmp' / 'proxy'};" in text
    assert text.index("http {") < text.index("upstream mestring_http")


def test_a_deploy_site_not_in_the_expected_shape_is_refused(tmp_path):
    deploy = DEPLOY_SITE.read_text()
    with pytest.raises(LayoutError, match="upstream mestring_ws"):
        nginx_site(deploy.replace("upstream mestring_ws", "upstream other_ws"), listen_port=1, web=WEB, ws=WS,
                   directory=tmp_path)  # fmt: skip
    with pytest.raises(LayoutError, match="TLS server"):
        nginx_site(deploy.replace("listen 443 ssl http2;", "listen 8443;"), listen_port=1, web=WEB, ws=WS,
                   directory=tmp_path)  # fmt: skip


@pytest.mark.skipif(nginx_binary() is None, reason="checks the derived configuration with nginx -t")
def test_nginx_accepts_the_derived_config(tmp_path):
    (tmp_path / "tmp").mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(DEPLOY_SITE.read_text(), listen_port=27460, web=WEB, ws=WS, directory=tmp_path))
    binary = nginx_binary()
    assert binary is not None
    checked = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(config), "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def run_bench(module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    if nginx_binary() is None:
        pytest.fail(
            "nginx is missing: the PostgreSQL + Redis pass needs Debian's nginx (`.ci/services start` installs it)"
        )
    return subprocess.run(  # noqa: S603 — our interpreter, our benchmark
        [sys.executable, "-m", module, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=1800,
        check=False,
    )  # fmt: skip


@pytest.mark.skipif(not POSTGRESQL_AND_REDIS, reason="the layout runs on PostgreSQL and Redis (their CI pass)")
def test_scale_out_short_form_loses_no_event_when_a_web_and_a_websocket_process_are_killed():
    completed = run_bench("bench.scaleout", "--short")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert "scale-out proof: PASSED" in output
    assert "ok   every event at every socket" in output and "ok   no event twice" in output


@pytest.mark.skipif(not POSTGRESQL_AND_REDIS, reason="the layout runs on PostgreSQL and Redis (their CI pass)")
def test_mixed_load_short_form_has_no_server_error_and_loses_no_event():
    completed = run_bench("bench.mixed", "--short")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert "ok   0 server errors" in output and "ok   every event at every socket, once" in output
    assert "ok   every reminder due was sent" in output
    for kind in ("telemetry", "today", "triage", "request"):
        assert any(line.startswith(kind) for line in output.splitlines()), kind
