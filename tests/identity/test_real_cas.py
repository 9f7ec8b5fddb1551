"""The binding flow and the browser login against a real CAS server from PyPI (django-mama-cas), not our emulator.

The fixture writes a tiny Django project into a temporary folder, migrates it, creates the users, and runs
`manage.py runserver` on a free loopback port in a subprocess, killed after the module.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from server.emulators.testing import cas_login
from server.identity.models import WechatBinding
from tests.factories import make_batch, make_student
from tests.identity.flows import bind, me, token_for, wx_login

STUDENT_NO = "2099555001"
PASSWORD = "Passw0rd!"

FILES = {
    "settings.py": """
        import os
        BASE_DIR = os.path.dirname(os.path.abspath(__file__))
        SECRET_KEY = "lixiao-test-cas-not-secret"
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
        ROOT_URLCONF = "urls"
        INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                          "django.contrib.messages", "mama_cas"]
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
        LANGUAGE_CODE = "zh-hans"
        STATIC_URL = "/static/"
        MAMA_CAS_SERVICES = [{"SERVICE": r"^http://127\\.0\\.0\\.1:\\d+/.*",
                              "CALLBACKS": ["mama_cas.callbacks.user_name_attributes"],
                              "LOGOUT_ALLOW": True}]
        MAMA_CAS_ENABLE_SINGLE_SIGN_OUT = False
        if os.environ.get("CAS_FAST_HASH"):  # PBKDF2 costs ~0.3 s per login on two cores
            PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    """,
    "urls.py": """
        from django.urls import include, path
        urlpatterns = [path("cas/", include("mama_cas.urls"))]
    """,
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
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        from django.contrib.auth.models import User
        User.objects.create_user("{STUDENT_NO}", password="{PASSWORD}", first_name="三", last_name="张")
        User.objects.create_user("outsider9", password="{PASSWORD}")
    """,
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the CAS server exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"the CAS server did not answer at {url}")


@pytest.fixture(scope="module")
def real_cas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A django-mama-cas server on a free port; yields its CAS URL (ending in /cas/)."""
    folder = tmp_path_factory.mktemp("mama-cas")
    for name, text in FILES.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "CAS_FAST_HASH": "1", "PYTHONWARNINGS": "ignore"}
    subprocess.run([sys.executable, "seed.py"], cwd=folder, env=env, check=True, timeout=120)
    port = _free_port()
    with (folder / "server.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(f"http://127.0.0.1:{port}/cas/login", proc)
            yield f"http://127.0.0.1:{port}/cas/"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def overrides(real_cas: str, request: pytest.FixtureRequest) -> dict[str, object]:
    """Aim the app at the real CAS server (CAS 3.0 unless a test says otherwise)."""
    return {"cas_server_url": real_cas, "cas_version": getattr(request, "param", 3)}


@pytest.fixture
def student(session):
    student = make_student(session, make_batch(session), student_no=STUDENT_NO, name="张三")
    session.commit()
    return student


def test_binding_through_a_real_cas_server(live, emulator, session, student):
    token = token_for(live.url, emulator, "o-real-cas")
    page = bind(live.url, token, STUDENT_NO, PASSWORD)
    assert page.status_code == 200, page.text
    assert "绑定成功，请返回小程序" in page.text
    session.expire_all()
    assert [(b.openid, b.student_id) for b in session.scalars(select(WechatBinding))] == [("o-real-cas", student.id)]
    assert me(live.url, token).json()["student"]["student_no"] == STUDENT_NO
    assert wx_login(live.url, emulator, "o-real-cas").json()["bound"] is True


def test_a_real_cas_user_outside_the_roster_binds_nothing(live, emulator, session, student):
    page = bind(live.url, token_for(live.url, emulator, "o-real-outsider"), "outsider9", PASSWORD)
    assert page.status_code == 403 and "not on the graduation roster" in page.text
    session.expire_all()
    assert session.scalars(select(WechatBinding)).all() == []


@pytest.mark.parametrize("overrides", [2], indirect=True)
def test_browser_login_through_a_real_cas_server_with_cas_2(live, student):
    http = requests.Session()
    start = http.get(f"{live.url}/login", params={"next": "/me"}, allow_redirects=False, timeout=10)
    answer = cas_login(http, start.headers["Location"], STUDENT_NO, PASSWORD)
    assert answer.status_code == 302, answer.text
    done = http.get(answer.headers["Location"], allow_redirects=False, timeout=10)
    assert done.status_code == 302 and done.headers["Location"] == "/me"
    assert "张三" in http.get(f"{live.url}/", timeout=10).text
