"""Debian's nginx in front of the workers, with the configuration docs/DEPLOYMENT.md gives.

The one copy of that configuration is the ```nginx block of docs/DEPLOYMENT.md. A local
run takes it as it is and changes only what one machine without certificates must: the
upstream's ports, a plain-HTTP listen port instead of TLS (and the Host header with that
port), the data directory, and the files nginx writes (pid, logs, temporary files) in a directory of the run's own. A
second copy of the same block, with its upstream renamed, can front other workers (the
bench's bare Flask-SocketIO baseline) in the same nginx process.
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import requests

from tests.live import ROOT, free_port

DEPLOYMENT = ROOT / "docs" / "DEPLOYMENT.md"


class ConfigChanged(RuntimeError):
    """The documented configuration no longer has a line this module rewrites."""


def deployment_block() -> str:
    """The ```nginx block of docs/DEPLOYMENT.md that defines the ``hemicycle`` upstream."""
    blocks = re.findall(r"```nginx\n(.*?)```", DEPLOYMENT.read_text(), re.S)
    found = [block for block in blocks if "upstream hemicycle" in block]
    if len(found) != 1:
        raise ConfigChanged("docs/DEPLOYMENT.md must hold exactly one ```nginx block with "
                            "`upstream hemicycle`")
    return found[0]


# The page-link secret of local runs (HEMICYCLE_PAGE_LINK_SECRET on their workers).
PAGE_LINK_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


def page_link_config(secret: str = PAGE_LINK_SECRET) -> str:
    """The lines docs/DEPLOYMENT.md has the operator write to /etc/nginx/hemicycle-page-link.conf
    (its ```sh block), with ``secret``."""
    found = re.findall(r"hemicycle-page-link\.conf <<EOF\n(.*?)\nEOF\n", DEPLOYMENT.read_text(), re.S)
    if len(found) != 1:
        raise ConfigChanged("docs/DEPLOYMENT.md must show hemicycle-page-link.conf once "
                            "(a heredoc ending in EOF)")
    return found[0].replace("\\$", "$").replace("$secret", secret)


def _sub(pattern: str, replacement: str, text: str, what: str, expected: int = 1) -> str:
    result, count = re.subn(pattern, replacement, text, flags=re.M)
    if count != expected:
        raise ConfigChanged(f"docs/DEPLOYMENT.md's nginx block: expected one {what}, found "
                            f"{count}; update bench/nginx.py with the documented config")
    return result


def local_block(block: str, *, port: int, workers: list[int], data_dir: Path,
                upstream: str = "hemicycle", with_map: bool = True) -> str:
    """The documented block for a local run: ``workers`` behind ``port`` on 127.0.0.1."""
    servers = "".join(f"    server 127.0.0.1:{worker};\n" for worker in workers)
    block = _sub(r"(?:^    server 127\.0\.0\.1:\d+;\n)+", servers, block, "list of upstream servers")
    block = _sub(r"^(\s*)listen 443 ssl http2(.*);$", rf"\1listen 127.0.0.1:{port}\2;", block,
                 "`listen 443 ssl http2`")
    block = _sub(r"^\s*ssl_certificate .*\n", "", block, "ssl_certificate")
    block = _sub(r"^\s*ssl_certificate_key .*\n", "", block, "ssl_certificate_key")
    # Host with its port: the local run listens on a port of its own, and a same-origin check
    # (the baseline's Socket.IO) compares the Origin with it; on 443 the two are the same.
    if "proxy_set_header Host $host;" not in block:
        raise ConfigChanged("docs/DEPLOYMENT.md's nginx block: no `proxy_set_header Host $host`")
    block = block.replace("proxy_set_header Host $host;", "proxy_set_header Host $http_host;")
    cache = str(Path(data_dir).resolve() / "cache" / "pages") + "/"
    block = _sub(r"alias /var/lib/hemicycle/cache/pages/;", f"alias {cache};", block,
                 "page cache alias (X-Accel-Redirect, page links)", expected=2)
    link = page_link_config().replace("\n", "\n        ")
    block = _sub(r"include /etc/nginx/hemicycle-page-link\.conf;", lambda _m: link, block,
                 "page-link include")
    block = _sub(r"root /var/lib/hemicycle/cache/pages;", f"root {cache.rstrip('/')};", block,
                 "page cache root")
    rights = Path(data_dir).resolve() / "nginx-rights"
    block = _sub(r"proxy_cache_path /run/nginx-hemicycle/rights ", f"proxy_cache_path {rights} ",
                 block, "rights cache path")
    if upstream != "hemicycle":
        block = _sub(r"upstream hemicycle \{", f"upstream {upstream} {{", block, "upstream")
        block = block.replace("proxy_pass http://hemicycle;", f"proxy_pass http://{upstream};")
        block = block.replace("proxy_pass http://hemicycle/", f"proxy_pass http://{upstream}/")
        block = block.replace("proxy_pass http://hemicycle$", f"proxy_pass http://{upstream}$")
    if not with_map:  # another copy in the same nginx already defines the http-level parts
        block = _sub(r"^map \$http_upgrade \$connection_upgrade \{\n(?:.*\n)*?\}\n", "", block,
                     "upgrade map")
        block = _sub(r"^map \$arg_size \$hemicycle_page_size \{.*\n(?:.*\n)*?\}\n", "", block,
                     "page size map")
        block = _sub(r"^proxy_cache_path .*\n.*\n", "", block, "rights cache")
    return block


def main_config(run_dir: Path, blocks: list[str], extra: str = "") -> str:
    """nginx.conf around the blocks: the limits DEPLOYMENT.md asks for, files in ``run_dir``."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {run_dir / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\nworker_rlimit_nofile 65536;\n"
            f"pid {run_dir / 'nginx.pid'};\nerror_log {run_dir / 'error.log'} warn;\n"
            "daemon off;\nevents { worker_connections 16384; }\n"
            "http {\n    include /etc/nginx/mime.types;\n    access_log off;\n"
            f"{temp}{''.join(blocks)}{extra}}}\n")


def binary() -> str | None:
    """Debian's nginx (in /usr/sbin, which is not on every user's PATH), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


class Nginx:
    """One nginx process (master and worker) run in the foreground from ``run_dir``."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.process: subprocess.Popen | None = None
        self.binary = binary()

    def start(self, config: str, probe_port: int, timeout: float = 20) -> "Nginx":
        if self.binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx-light; "
                               "scripts/setup --dev does)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / "nginx.conf"
        path.write_text(config)
        check = subprocess.run([self.binary, "-t", "-q", "-e", str(self.run_dir / "error.log"),
                                "-c", str(path)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refuses the configuration:\n{check.stderr}\n{config}")
        self.process = subprocess.Popen([self.binary, "-e", str(self.run_dir / "error.log"),
                                         "-c", str(path)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {self.log()}")
            try:
                requests.get(f"http://127.0.0.1:{probe_port}/", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {probe_port}: {self.log()}")

    def log(self) -> str:
        path = self.run_dir / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: fast shutdown of master and worker
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def front(run_dir: Path, data_dir: Path, workers: list[int], port: int | None = None,
          extra: str = "") -> tuple[Nginx, int]:
    """nginx with the documented config in front of ``workers``: (nginx, its port)."""
    port = port or free_port()
    block = local_block(deployment_block(), port=port, workers=workers, data_dir=data_dir)
    return Nginx(run_dir).start(main_config(run_dir, [block], extra), port), port
