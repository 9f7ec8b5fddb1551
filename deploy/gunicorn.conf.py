"""gunicorn settings for Lixiao (docs/OPERATIONS.md): `gunicorn -c deploy/gunicorn.conf.py 'server.app:create_app()'`.

Environment: LIXIAO_BIND (127.0.0.1:8000), LIXIAO_WEB_WORKERS (processes, default 2 per core),
LIXIAO_WEB_THREADS (threads per process, default 8), PROMETHEUS_MULTIPROC_DIR (metrics summed over workers).
"""

import multiprocessing
import os
import re
import shutil

from gunicorn.glogging import Logger

bind = os.environ.get("LIXIAO_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LIXIAO_WEB_WORKERS", str(2 * multiprocessing.cpu_count())))
worker_class = "gthread"  # threads wait on MySQL, Redis and departmental systems; processes use the cores
threads = int(os.environ.get("LIXIAO_WEB_THREADS", "8"))
timeout = 30  # nothing legitimate takes longer: platforms time out at 3 s, departmental sources at theirs
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then; the jitter keeps them from restarting together
max_requests_jitter = 500
accesslog = "-"
# The path without the query string: /bind/cas?token=…, CAS tickets and WeCom codes travel in queries.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
_CERTIFICATE_TOKEN = re.compile(r"/v/[^\s?]+")


class RedactingLogger(Logger):
    """Nor the certificate token of /v/<token> (the QR code's URL): the scan log keeps only its hash."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        """gunicorn's atoms with the token of a certificate path replaced, in the path and the request line."""
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("U", "r"):
            atoms[name] = _CERTIFICATE_TOKEN.sub("/v/[redacted]", atoms.get(name) or "")
        return atoms


logger_class = RedactingLogger


def on_starting(server):  # type: ignore[no-untyped-def]
    """Start metrics from an empty directory: files of earlier runs would be summed in."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker that exits stops counting in the live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
