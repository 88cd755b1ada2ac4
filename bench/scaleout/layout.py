"""The scale-out layout on loopback: nginx (``deploy/nginx/mestring.conf``) in front of two web processes
(gunicorn) and two websocket processes (uvicorn), two task workers and two reminder dispatchers.

``nginx_config`` turns the deploy site into a configuration nginx runs as an ordinary process here: the
upstream blocks get one ``server`` line per local process, the TLS server listens on a loopback port
without TLS (the certificate lines go; the port-80 redirect server goes), logs and temporary files go to
the run's directory. Every other line of the site (routing, headers, timeouts, the websocket upgrade) is
the deploy file's own. A deploy file that no longer has what is rewritten is an error, not a silent
difference.

``Layout`` starts and stops the processes (each in its own process group, logs in the run's directory),
kills one on request and reads each one's resident memory.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY_SITE = ROOT / "deploy" / "nginx" / "mestring.conf"
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


class LayoutError(Exception):
    pass


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)


def _replace_upstream(site: str, name: str, addresses: list[str]) -> str:
    block = re.compile(r"(upstream\s+" + re.escape(name) + r"\s*\{)(.*?)(\})", re.S)
    match = block.search(site)
    if match is None:
        raise LayoutError(f"the deploy site has no upstream {name}")
    body = re.sub(r"^[ \t]*server\s+[^;]+;[ \t]*\n?", "", match.group(2), flags=re.M)
    servers = "".join(f"\n    server {address};" for address in addresses)
    return site[: match.start()] + match.group(1) + servers + body + match.group(3) + site[match.end() :]


def _server_blocks(site: str) -> list[tuple[int, int]]:
    """(start, end) of every top-level ``server { ... }`` block."""
    blocks = []
    for match in re.finditer(r"^server\s*\{", site, re.M):
        depth, index = 0, match.end() - 1
        while index < len(site):
            if site[index] == "{":
                depth += 1
            elif site[index] == "}":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        blocks.append((match.start(), index + 1))
    return blocks


def nginx_site(site: str, *, listen_port: int, web: list[str], ws: list[str], directory: Path) -> str:
    """The deploy site with the local upstreams, listening on ``listen_port`` without TLS."""
    site = _replace_upstream(site, "mestring_http", web)
    site = _replace_upstream(site, "mestring_ws", ws)
    blocks = _server_blocks(site)
    redirect = [(start, end) for start, end in blocks if "return 301" in site[start:end]]
    served = [(start, end) for start, end in blocks if "listen 443 ssl" in site[start:end]]
    if len(redirect) != 1 or len(served) != 1:
        raise LayoutError("the deploy site no longer has one port-80 redirect server and one TLS server")
    start, end = served[0]
    # Comments about TLS would only mislead in a configuration without it.
    server = re.sub(r"^\s*#[^\n]*\n", "", site[start:end], flags=re.M)
    server = re.sub(r"^\s*listen\s+\[::\]:443[^;]*;\n", "", server, flags=re.M)
    server, listens = re.subn(r"listen\s+443[^;]*;", f"listen {HOST}:{listen_port};", server)
    server = re.sub(r"^\s*ssl_[a-z_]+\s+[^;]*;\n", "", server, flags=re.M)
    server, logs = re.subn(r"access_log\s+\S+\s+mestring;", f"access_log {directory / 'access.log'} mestring;", server)
    server = re.sub(r"error_log\s+\S+\s+(\w+);", rf"error_log {directory / 'error.log'} \1;", server)
    server = re.sub(r"alias\s+/srv/mestring/static/;", f"alias {directory / 'static'}/;", server)
    if listens != 1 or logs != 1 or "ssl" in server:
        raise LayoutError("the deploy site's TLS server is not in the shape the local layout rewrites")
    redirect_start, redirect_end = redirect[0]
    pieces = [(redirect_start, redirect_end, ""), (start, end, server)]
    for piece_start, piece_end, text in sorted(pieces, reverse=True):
        site = site[:piece_start] + text + site[piece_end:]
    return site


def nginx_config(site: str, *, listen_port: int, web: list[str], ws: list[str], directory: Path) -> str:
    """A whole nginx.conf: the rewritten deploy site inside an ``http`` block, everything in ``directory``."""
    body = nginx_site(site, listen_port=listen_port, web=web, ws=ws, directory=directory)
    temporary = "\n".join(
        f"    {kind}_temp_path {directory / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\n"
        "daemon off;\n"
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events {\n    worker_connections 4096;\n}\n"
        "http {\n"
        "    default_type application/octet-stream;\n"
        f"{temporary}\n" + body + "\n}\n"
    )


def port_accepts(port: int) -> bool:
    with suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


def http_status(port: int, path: str, timeout: float = 5.0) -> int | None:
    import http.client

    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def established(port: int) -> int:
    """How many TCP connections to the local listening ``port`` are established (from /proc/net/tcp)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def group_rss_kib(group: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != group:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total


@dataclass
class Process:
    name: str
    command: list[str]
    log: Path
    port: int | None = None
    environment: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[Any] | None = None
    killed: bool = False

    def start(self, environment: dict[str, str]) -> None:
        with self.log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603 — our interpreter and Debian's nginx, fixed arguments
                self.command, cwd=ROOT, env=environment | self.environment, stdout=output,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def rss_kib(self) -> int:
        return group_rss_kib(self.pid) if self.alive() else 0

    def signal_group(self, number: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.pid, number)

    def kill(self) -> None:
        """SIGKILL to the whole process group (a gunicorn master and its workers): no clean shutdown."""
        self.signal_group(signal.SIGKILL)
        assert self.popen is not None
        self.popen.wait(timeout=STOP_TIMEOUT)
        self.killed = True

    def stop(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait(timeout=STOP_TIMEOUT)
        # A gunicorn worker or a uvicorn child outliving its parent would hold the port: end the group.
        self.signal_group(signal.SIGKILL)


def web_command(port: int, log: Path) -> list[str]:
    """``deploy/systemd/mestring-web.service``'s gunicorn on a loopback port, its access log to a file."""
    return [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"{HOST}:{port}",
        "--worker-class", "gthread", "--workers", "2", "--threads", "8",
        "--timeout", "60", "--graceful-timeout", "30", "--keep-alive", "5",
        "--max-requests", "5000", "--max-requests-jitter", "500",
        "--forwarded-allow-ips", HOST,
        "--access-logfile", str(log.with_suffix(".access.log")), "--no-control-socket",
    ]  # fmt: skip


def ws_command(port: int) -> list[str]:
    """``deploy/systemd/mestring-ws.service``'s uvicorn on a loopback port."""
    return [
        sys.executable, "-m", "uvicorn", "config.asgi:application",
        "--host", HOST, "--port", str(port),
        "--ws", "websockets-sansio", "--ws-ping-interval", "20", "--ws-ping-timeout", "20", "--ws-max-size", "65536",
        "--proxy-headers", "--forwarded-allow-ips", HOST,
        "--lifespan", "off", "--no-server-header", "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip


class Layout:
    """Two web, two websocket, two worker and two dispatcher processes behind one nginx."""

    def __init__(self, environment: dict[str, str], directory: Path, ports: list[int]) -> None:
        nginx = nginx_binary()
        if nginx is None:
            raise LayoutError("nginx is not installed (Debian: apt-get install nginx)")
        if len(ports) < 5:
            raise LayoutError("the layout needs five ports: nginx, two web, two websocket")
        self.environment = environment
        self.directory = directory
        self.port = ports[0]
        web_ports, ws_ports = ports[1:3], ports[3:5]
        (directory / "nginx" / "tmp").mkdir(parents=True, exist_ok=True)
        (directory / "nginx" / "static").mkdir(exist_ok=True)
        config = directory / "nginx" / "nginx.conf"
        config.write_text(
            nginx_config(
                DEPLOY_SITE.read_text(),
                listen_port=self.port,
                web=[f"{HOST}:{port}" for port in web_ports],
                ws=[f"{HOST}:{port}" for port in ws_ports],
                directory=directory / "nginx",
            )
        )
        self.web = [
            Process(f"web-{number}", web_command(port, directory / f"web-{number}.log"),
                    directory / f"web-{number}.log", port)
            for number, port in enumerate(web_ports, 1)
        ]  # fmt: skip
        self.ws = [
            Process(f"ws-{number}", ws_command(port), directory / f"ws-{number}.log", port,
                    {"DB_CONN_MAX_AGE": "60", "DB_CONN_HEALTH_CHECKS": "0"})
            for number, port in enumerate(ws_ports, 1)
        ]  # fmt: skip
        manage = [sys.executable, "manage.py"]
        self.workers = [
            Process(f"worker-{number}",
                    [*manage, "run_worker", "--queue-name", "*", "--no-reload", "--worker-id", f"scaleout-{number}"],
                    directory / f"worker-{number}.log")
            for number in (1, 2)
        ]  # fmt: skip
        self.dispatchers = [
            Process(f"dispatcher-{number}",
                    [*manage, "dispatch_reminders", "--loop", "--worker-id", f"scaleout-{number}"],
                    directory / f"dispatcher-{number}.log")
            for number in (1, 2)
        ]  # fmt: skip
        self.nginx = Process("nginx", [nginx, "-p", str(directory / "nginx"), "-c", str(config),
                                       "-e", str(directory / "nginx" / "error.log")],
                             directory / "nginx" / "stdout.log", self.port)  # fmt: skip

    @property
    def processes(self) -> list[Process]:
        return [*self.web, *self.ws, *self.workers, *self.dispatchers, self.nginx]

    def start(self) -> None:
        test = subprocess.run([*self.nginx.command, "-t"], capture_output=True, text=True, check=False)  # noqa: S603
        if test.returncode != 0:
            raise LayoutError(f"nginx rejects the configuration: {test.stderr.strip()}")
        for process in self.processes:
            process.start(self.environment)
        deadline = time.monotonic() + READY_TIMEOUT
        for process in self.processes:
            while not self.ready(process):
                if not process.alive():
                    raise LayoutError(f"{process.name} exited at start (log: {process.log})")
                if time.monotonic() > deadline:
                    raise LayoutError(f"{process.name} was not ready within {READY_TIMEOUT:.0f} s (log: {process.log})")
                time.sleep(0.2)

    def ready(self, process: Process) -> bool:
        if process in self.web or process is self.nginx:
            assert process.port is not None
            return http_status(process.port, "/healthz") == 200
        if process in self.ws:
            assert process.port is not None
            return port_accepts(process.port)
        return process.alive()

    def stop(self) -> None:
        for process in [self.nginx, *self.web, *self.ws, *self.workers, *self.dispatchers]:
            process.stop()

    def rss_kib(self) -> dict[str, int]:
        return {process.name: process.rss_kib() for process in self.processes if process.alive()}


@contextmanager
def running(environment: dict[str, str], directory: Path, ports: list[int]) -> Iterator[Layout]:
    layout = Layout(environment, directory, ports)
    try:
        layout.start()
        yield layout
    finally:
        layout.stop()
