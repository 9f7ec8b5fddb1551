"""Two independent CAS servers from PyPI, run the way a campus might run theirs: django-mama-cas and
django-cas-server (neither is our emulator, and they differ: django-cas-server's login form has no `action`, more
hidden fields, and both release attributes on CAS 2 as well as CAS 3).

Each server is a tiny Django project written into a temporary folder, migrated, seeded with the ACCOUNTS
below, and served by `manage.py runserver` on a free loopback port in a subprocess. Attribute names are campus
style (`xh` 学号, `xm` 姓名, `yxmc` 院系名称, `gh` 工号), not the emulator's. `release_attributes=False` gives a
server that releases none (a CAS 2 deployment as often found).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

PASSWORD = "Passw0rd!"
KINDS = ("mama-cas", "django-cas-server")

# principal → released attributes. The roster the tests build names these people (tests/identity/test_real_cas.py).
ACCOUNTS: dict[str, dict[str, str]] = {
    # The principal is the student number (CAS's username is the 学号).
    "2099555001": {"xh": "2099555001", "xm": "张三", "cn": "张三", "yxmc": "计算机学院", "rylx": "研究生"},
    # A login alias (登录名) as principal; the student number only in `xh`.
    "lisi.alias": {"xh": "2099555002", "xm": "李四", "cn": "李四", "yxmc": "计算机学院", "rylx": "研究生"},
    # CAS knows this student under another name and college than the roster does.
    "2099555003": {"xh": "2099555003", "xm": "王小明", "cn": "王小明", "yxmc": "计算机科学与技术学院"},
    # A principal that looks like the first student's number but is someone else's alias (xh says who).
    "2099555001x": {"xh": "2099555002", "xm": "李四", "yxmc": "计算机学院"},
    # A staff member: a 工号 (gh) and no 学号; Lixiao's staff account is named by the principal.
    "t.library": {"gh": "T20120034", "xm": "图书馆老师", "yxmc": "图书馆", "rylx": "教职工"},
    # Someone CAS knows and Lixiao does not.
    "outsider9": {"xm": "路人甲", "rylx": "校外人员"},
}

_COMMON_SETTINGS = """
    import json, os
    BASE_DIR = os.path.dirname(os.path.abspath(__file__))
    SECRET_KEY = "lixiao-test-cas-not-secret"
    DEBUG = False
    ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    ROOT_URLCONF = "urls"
    MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
                  "django.middleware.common.CommonMiddleware",
                  "django.middleware.csrf.CsrfViewMiddleware",
                  "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "django.contrib.messages.middleware.MessageMiddleware"]
    TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                  "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                     "django.contrib.auth.context_processors.auth",
                                                     "django.contrib.messages.context_processors.messages"]}}]
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE_DIR, "cas.db")}}
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
    USE_TZ = True
    TIME_ZONE = "Asia/Shanghai"
    LANGUAGE_CODE = "zh-hans"
    STATIC_URL = "/static/"
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # PBKDF2 costs ~0.3 s a login here
    with open(os.path.join(BASE_DIR, "accounts.json"), encoding="utf-8") as accounts:
        CAMPUS_ATTRIBUTES = json.load(accounts)
    RELEASE_ATTRIBUTES = os.path.exists(os.path.join(BASE_DIR, "release-attributes"))
"""

_FILES: dict[str, dict[str, str]] = {
    "mama-cas": {
        "settings.py": _COMMON_SETTINGS + """
    INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                      "django.contrib.messages", "mama_cas"]
    MAMA_CAS_SERVICES = [{"SERVICE": r"^http://127\\.0\\.0\\.1:\\d+/.*",
                          "CALLBACKS": ["campus.attributes"] if RELEASE_ATTRIBUTES else [],
                          "LOGOUT_ALLOW": True}]
    MAMA_CAS_ENABLE_SINGLE_SIGN_OUT = False
""",
        "campus.py": """
    from django.conf import settings

    def attributes(user, service):
        return dict(settings.CAMPUS_ATTRIBUTES.get(user.get_username(), {}))
""",
        "urls.py": """
    from django.urls import include, path
    urlpatterns = [path("cas/", include("mama_cas.urls"))]
""",
        "seed_services.py": """
    def seed():
        pass
""",
    },
    "django-cas-server": {
        "settings.py": _COMMON_SETTINGS + """
    INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                      "django.contrib.messages", "django.contrib.staticfiles", "cas_server"]
    CAS_AUTH_CLASS = "campus.CampusAuthUser"
    CAS_NEW_VERSION_HTML_WARNING = False  # else it asks PyPI for a newer release
    CAS_NEW_VERSION_EMAIL_WARNING = False
    CAS_SHOW_POWERED = False
""",
        "campus.py": """
    from cas_server.auth import DjangoAuthUser
    from django.conf import settings

    class CampusAuthUser(DjangoAuthUser):
        def attributs(self):
            return dict(settings.CAMPUS_ATTRIBUTES.get(self.username, {})) if self.user else {}
""",
        "urls.py": """
    from django.urls import include, path
    urlpatterns = [path("cas/", include("cas_server.urls", namespace="cas_server"))]
""",
        "seed_services.py": """
    from django.conf import settings

    def seed():
        from cas_server.models import ReplaceAttributName, ServicePattern
        pattern = ServicePattern.objects.create(pos=1, name="lixiao", pattern=r"^http://127\\.0\\.0\\.1:\\d+/.*",
                                                user_field="")
        if settings.RELEASE_ATTRIBUTES:
            ReplaceAttributName.objects.create(name="*", replace="", service_pattern=pattern)
""",
    },
}

_SHARED_FILES = {
    "manage.py": """
    import os, sys
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
""",
    "seed.py": f"""
    import os
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    for username in settings.CAMPUS_ATTRIBUTES:
        User.objects.create_user(username, password="{PASSWORD}")
    import seed_services
    seed_services.seed()
""",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the CAS server exited with {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"the CAS server did not answer at {url}")


@contextmanager
def running_cas_server(kind: str, folder: Path, *, release_attributes: bool = True) -> Iterator[str]:
    """Write, seed and serve one CAS server; yields its CAS URL (ending in /cas/)."""
    for name, text in {**_SHARED_FILES, **_FILES[kind]}.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "accounts.json").write_text(json.dumps(ACCOUNTS, ensure_ascii=False), encoding="utf-8")
    if release_attributes:
        (folder / "release-attributes").touch()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONWARNINGS": "ignore"}
    subprocess.run([sys.executable, "seed.py"], cwd=folder, env=env, check=True, timeout=120)
    port = _free_port()
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(f"http://127.0.0.1:{port}/cas/login", proc, log_path)
            yield f"http://127.0.0.1:{port}/cas/"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
