"""One language at a time on the web pages: Chinese by default, English by Accept-Language or the remembered switch.

Templates call `t("中文", "English")` or `t(pair)`; `lang` is "zh" or "en". The switch (`/lang/<code>`) keeps the
choice in a cookie for a year, as the mini-program keeps its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from flask import Blueprint, Flask, g, redirect, request
from werkzeug.wrappers import Response

from server.web.links import safe_next

COOKIE = "lixiao_lang"
LANGUAGES = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}

bp = Blueprint("language", __name__)


def current() -> str:
    """This request's language: the remembered switch, else the browser's preference between zh and en, else zh."""
    if "lang" not in g:
        chosen = request.cookies.get(COOKIE, "")
        if chosen not in LANGUAGES:
            chosen = request.accept_languages.best_match(["zh", "en"], default="zh") or "zh"
            chosen = "en" if chosen.startswith("en") else "zh"
        g.lang = chosen
    return str(g.lang)


def t(zh: str | Sequence[str], en: str | None = None) -> str:
    """The words in this request's language: t("中文", "English") or t(("中文", "English"))."""
    if en is None:
        if isinstance(zh, str):
            return zh
        zh, en = zh[0], zh[1]
    return str(en if current() == "en" else zh)


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Remember the chosen language and go back where the switch was pressed."""
    # Back to the page of the switch (our own Referer; the link does not repeat the page's address).
    back = request.args.get("next") or ""
    referrer = urlsplit(request.referrer or "")
    if not back and referrer.netloc == request.host:
        back = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    response = redirect(safe_next(back, "/"))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def install(app: Flask) -> None:
    """`t`, `lang` and `html_lang` in every template, and the switch's route."""
    app.jinja_env.globals["t"] = t
    app.register_blueprint(bp)

    @app.context_processor
    def _language() -> dict[str, str]:
        lang = current()
        return {"lang": lang, "html_lang": HTML_LANG[lang], "other_lang": "en" if lang == "zh" else "zh"}
