"""Debian's nginx in user space on loopback, serving the site IT installs (deploy/nginx/portal.conf).

The site file is used as it ships: `render_site` replaces only the values it marks "IT:" (host
name, listen ports, certificate paths, log path, upstream addresses) and fails if one of them is
no longer where it expects, so a changed site file cannot silently stop being what is tested.
The main configuration around it keeps pid, logs and temporary files under the server's folder.
"""
from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from .process import ManagedProcess

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "deploy" / "nginx" / "portal.conf"
NGINX = "/usr/sbin/nginx"
SHIPPED_NAME = "passwords.example.com"
SHIPPED_UPSTREAM = re.compile(r"^([ \t]*)server 127\.0\.0\.1:\d+ (.*);\n", re.MULTILINE)


LOG_LINE = re.compile(r'^(?P<client>\S+) \[[^]]*\] "(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) '
                      r'\d+ \S+ upstream=(?P<upstream>.*?) upstream_status=', re.MULTILINE)


@dataclass(frozen=True)
class Served:
    """One line of the site's access log: who asked what, the answer, the instance(s) nginx tried."""

    client: str
    method: str
    path: str
    status: int
    upstream: str  # "127.0.0.1:8000", or "127.0.0.1:8000, 127.0.0.1:8001" when it went on to the next


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def self_signed_certificate(folder: Path, address: str = "127.0.0.1") -> Certificate:
    """A one-day certificate for `address` (as an IP subjectAltName), made with openssl now."""
    folder.mkdir(parents=True, exist_ok=True)
    certificate = Certificate(folder / "portal.pem", folder / "portal.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={address}", "-addext", f"subjectAltName=IP:{address}",
                    "-keyout", str(certificate.key), "-out", str(certificate.cert)],
                   check=True, capture_output=True)
    certificate.key.chmod(0o600)
    return certificate


def _replace(text: str, old: str, new: str) -> str:
    if old not in text:
        raise ValueError(f"{SITE} no longer contains {old!r}: update devstack/nginx.py with it")
    return text.replace(old, new)


def render_site(upstreams: Sequence[int], http_port: int, https_port: int, certificate: Certificate,
                access_log: Path, address: str = "127.0.0.1") -> str:
    """The shipped site with this server's values in place of the ones IT fills in."""
    text = SITE.read_text()
    first = SHIPPED_UPSTREAM.search(text)
    if first is None:
        raise ValueError(f"{SITE} has no `server 127.0.0.1:PORT ...;` upstream lines")
    indent, parameters = first.groups()
    servers = "".join(f"{indent}server {address}:{port} {parameters};\n" for port in upstreams)
    text = text[:first.start()] + servers + SHIPPED_UPSTREAM.sub("", text[first.start():])
    for old, new in ((f"/etc/ssl/certs/{SHIPPED_NAME}.pem", str(certificate.cert)),
                     (f"/etc/ssl/private/{SHIPPED_NAME}.key", str(certificate.key)),
                     ("/var/log/nginx/portal.access.log", str(access_log)),
                     ("listen 80;", f"listen {address}:{http_port};"),
                     ("listen 443 ssl http2;", f"listen {address}:{https_port} ssl http2;"),
                     (SHIPPED_NAME, address)):
        text = _replace(text, old, new)
    return text


MAIN = """worker_processes 1;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    access_log {dir}/access.log;
    include {dir}/portal.conf;
}}
"""


class Nginx(ManagedProcess):
    """nginx in front of portal instances on 127.0.0.1:`upstreams`; HTTPS on `https_port`.

    Ready once its HTTP port answers (the redirect to HTTPS), whatever the instances do."""

    def __init__(self, folder: Path, upstreams: Sequence[int], http_port: int, https_port: int) -> None:
        (folder / "tmp").mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.certificate = self_signed_certificate(folder / "tls")
        self.access_log = folder / "portal.access.log"
        self.url = f"https://127.0.0.1:{https_port}"
        (folder / "portal.conf").write_text(
            render_site(upstreams, http_port, https_port, self.certificate, self.access_log))
        (folder / "nginx.conf").write_text(MAIN.format(dir=folder))

        def answers() -> bool:
            return requests.get(f"http://127.0.0.1:{http_port}/", allow_redirects=False,
                                timeout=2).status_code == 301

        super().__init__("nginx", [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                   "-e", str(folder / "error.log"),
                                   "-g", f"daemon off; pid {folder}/nginx.pid;"],
                         folder / "nginx.out", answers)

    def served(self) -> list[Served]:
        """Every request so far, from the site's own (redacted) access log, oldest first."""
        return [Served(m["client"], m["method"], m["path"], int(m["status"]), m["upstream"])
                for m in LOG_LINE.finditer(self.access_log.read_text())]
