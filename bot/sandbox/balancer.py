"""nginx on loopback in front of several bot processes, as a deployment has it: round robin,
and a request a dead process could not answer goes to the next (the dedupe by update id
makes that safe). Its own configuration in a scratch directory; never the system's."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream dondoc {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://dondoc;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 1s;
            proxy_read_timeout 30s;
            # An update the process died on goes to the next: answered once all the same.
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


class Balancer:
    """`start` runs nginx on 127.0.0.1:`port` over the `backends` (host:port each)."""

    def __init__(self, directory: Path, port: int, backends: list[str]) -> None:
        self.directory, self.port, self.backends = directory, port, backends
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server {backend} max_fails=1 fail_timeout=5s;" for backend in self.backends
        )
        import os

        config = CONFIG.format(
            dir=self.directory,
            port=self.port,
            servers=servers,
            user="user root;" if os.geteuid() == 0 else "",
        )
        path = self.directory / "nginx.conf"
        path.write_text(config)
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.directory), "-c", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx failed: {self.process.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                httpx.get(self.url, timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
