"""The deployment of docs/OPERATIONS.md, rehearsed: nginx (deploy/nginx) → gunicorn (deploy/gunicorn.conf.py).

Both run from the shipped files with only addresses and paths swapped for test ones. Through them: the app
answers over TLS, a client cannot forge its address past the proxy (the per-address login limit holds),
/metrics sums every gunicorn worker, static files come from nginx, and neither access log keeps a query
string (they carry tokens and one-time codes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import urllib3

from tests.drills.servers import RedisServer, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET_TOKEN = "tok-must-not-be-logged-0123456789"  # a marker to look for in the logs
PER_IP = 3


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """One Redis for both gunicorn workers, as in production (limits are shared through it)."""
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def gunicorn(app, settings, redis_server, tmp_path) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """gunicorn with the shipped config: two workers, metrics across processes, on a free port."""
    port = free_port()
    env = {**os.environ, "LIXIAO_BIND": f"127.0.0.1:{port}", "LIXIAO_WEB_WORKERS": "2", "LIXIAO_WEB_THREADS": "4",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "LIXIAO_DATABASE_URL": settings.database_url,
           "LIXIAO_REDIS_URL": redis_server.url, "LIXIAO_SECRET_KEY": settings.secret_key,
           "LIXIAO_CERTIFICATE_PRIVATE_KEY": settings.certificate_private_key, "LIXIAO_TRUSTED_PROXIES": "1",
           "LIXIAO_RATE_LIMIT_PER_IP": str(PER_IP), "LIXIAO_TESTING": "1"}
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen([str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                                "server.app:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30)
        yield {"port": port, "log": tmp_path / "gunicorn.log", "metrics": tmp_path / "metrics"}
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def nginx_config(directory: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx with test ports, a throwaway certificate and paths under `directory`."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem"),
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    site = (ROOT / "deploy" / "nginx" / "lixiao.conf").read_text()
    for old, new in {"listen 80;": f"listen 127.0.0.1:{http_port};",
                     "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
                     "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
                     "/etc/ssl/lixiao/fullchain.pem": str(directory / "cert.pem"),
                     "/etc/ssl/lixiao/privkey.pem": str(directory / "key.pem"),
                     "/etc/nginx/lixiao-proxy.conf": str(ROOT / "deploy" / "nginx" / "lixiao-proxy.conf"),
                     "/var/log/nginx/": f"{directory}/", "/srv/lixiao/server/static/": f"{ROOT}/server/static/",
                     "/srv/lixiao-verify": str(directory)}.items():
        assert old in site, f"deploy/nginx/lixiao.conf no longer has {old!r}; update this test"
        site = site.replace(old, new)
    (directory / "site.conf").write_text(site)
    main = directory / "nginx.conf"
    main.write_text(f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\nevents {{}}\n"
                    f"http {{\n include /etc/nginx/mime.types;\n include {directory}/site.conf;\n}}\n")
    return main


@pytest.fixture
def nginx(gunicorn) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """nginx with the shipped site config in front of gunicorn."""
    if not Path(NGINX).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is required under CI=true (scripts/ci/services.sh installs it)")
        pytest.skip("nginx is not installed")
    # Not under pytest's 0700 temporary root: nginx's workers run as an unprivileged user and read from here.
    directory = Path(tempfile.mkdtemp(prefix="lixiao-nginx-"))
    directory.chmod(0o755)
    http_port, https_port = free_port(), free_port()
    config = nginx_config(directory, gunicorn["port"], http_port, https_port)
    checked = subprocess.run([NGINX, "-t", "-c", str(config), "-p", str(directory)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(directory), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(https_port, 10)
        yield {"url": f"https://127.0.0.1:{https_port}", "http": f"http://127.0.0.1:{http_port}",
               "log": directory / "lixiao.access.log", "verify": directory}
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.slow
def test_nginx_and_gunicorn_as_shipped(nginx, gunicorn, session):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    http = requests.Session()
    http.trust_env = False  # a CA bundle from the environment would override verify=False
    http.verify = False  # our throwaway certificate
    base = nginx["url"]

    plain = requests.get(nginx["http"] + "/healthz", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
    for _ in range(10):
        assert http.get(base + "/healthz", timeout=10).json() == {"status": "ok"}
    assert http.get(base + "/readyz", timeout=10).status_code == 200
    static = http.get(base + "/static/lixiao.css", timeout=10)
    assert static.status_code == 200 and "text/css" in static.headers["Content-Type"]
    (nginx["verify"] / "WW_verify_Ab12.txt").write_text("Ab12")  # a platform console's domain check
    assert http.get(base + "/WW_verify_Ab12.txt", timeout=10).text == "Ab12"
    assert http.get(base + "/other.txt", timeout=10).status_code == 404

    # A forged X-Forwarded-For does not get past nginx: the app counts the real client.
    statuses = [http.get(base + "/login", headers={"X-Forwarded-For": f"10.9.8.{i}"}, allow_redirects=False,
                         timeout=10).status_code for i in range(PER_IP + 1)]
    assert statuses == [302] * PER_IP + [429], statuses

    # Tokens in query strings stay out of both access logs.
    http.get(base + f"/bind/cas?token={SECRET_TOKEN}", allow_redirects=False, timeout=10)
    time.sleep(0.3)
    nginx_log, gunicorn_log = nginx["log"].read_text(), gunicorn["log"].read_text()
    assert "/bind/cas" in nginx_log and "/bind/cas" in gunicorn_log
    assert SECRET_TOKEN not in nginx_log and SECRET_TOKEN not in gunicorn_log
    # Nor does a certificate token in the path (review I-1): the scan log keeps only its hash.
    assert http.get(base + f"/v/v1.{SECRET_TOKEN}", timeout=10).status_code < 500
    time.sleep(0.3)
    nginx_log, gunicorn_log = nginx["log"].read_text(), gunicorn["log"].read_text()
    assert "/v/[redacted]" in nginx_log and "/v/[redacted]" in gunicorn_log
    assert SECRET_TOKEN not in nginx_log and SECRET_TOKEN not in gunicorn_log

    # /metrics adds up the workers (each writes its own file under PROMETHEUS_MULTIPROC_DIR).
    body = http.get(base + "/metrics", timeout=10).text
    count = re.search(r'lixiao_request_seconds_count\{endpoint="/healthz",method="GET",status="200"\} (\S+)', body)
    assert count and float(count.group(1)) == 10.0, body[:1500]
    assert "lixiao_outbox_backlog" in body and "lixiao_source_failed_records" in body
