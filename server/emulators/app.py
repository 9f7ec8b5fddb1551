"""App factory and command line for the platform emulators (WeChat, WeCom, CAS) on one port."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import replace

from flask import Flask, Response, jsonify
from werkzeug.serving import make_server

from . import cas, control, service_account, wechat, wecom
from .config import DEMO_ACCOUNT_TEMPLATES, EmulatorConfig, load_users_file
from .state import EmulatorState


def create_emulator_app(config: EmulatorConfig | None = None) -> Flask:
    """Build the Flask app serving all three emulated platforms and the control API."""
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays readable in answers
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["lixiao_emulators"] = EmulatorState(config or EmulatorConfig())
    for blueprint in (wechat.bp, wecom.bp, wecom.oauth_bp, cas.bp, control.bp,
                      service_account.bp, service_account.control_bp):
        app.register_blueprint(blueprint)

    @app.get("/healthz")
    def healthz() -> Response:
        """Answer 200 when the emulators are up."""
        return jsonify({"status": "ok", "platforms": ["wechat", "wecom", "cas"]})

    return app


def state_of(app: Flask) -> EmulatorState:
    """Return the in-memory state of an emulator app (for in-process tests)."""
    return app.extensions["lixiao_emulators"]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m server.emulators",
        description="WeChat, WeCom and CAS emulators for development and demos (never production).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "8001")))
    parser.add_argument("--users-file", help="JSON list of {username, password, attributes} CAS users")
    parser.add_argument("--wechat-appid", default=defaults.wechat_appid)
    parser.add_argument("--wechat-secret", default=defaults.wechat_secret)
    parser.add_argument("--wecom-corpid", default=defaults.wecom_corpid)
    parser.add_argument("--wecom-corpsecret", default=defaults.wecom_corpsecret)
    parser.add_argument("--wecom-agentid", type=int, default=defaults.wecom_agentid)
    parser.add_argument("--account-templates", choices=["none", "demo"], default="none",
                        help="subscribe templates the account holds (demo: keys not numbered 1, 2, 3; "
                             "gettemplate lists them and sends must use their keys)")
    parser.add_argument(
        "--cas-service-pattern",
        action="append",
        dest="cas_service_patterns",
        help="regex of allowed CAS service URLs (repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the emulators until interrupted (--port 0 picks a free port and prints it)."""
    args = _parse_args(argv)
    try:
        users = load_users_file(args.users_file) if args.users_file else []
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read users file {args.users_file}: {exc}") from None
    config = replace(
        EmulatorConfig(),
        wechat_appid=args.wechat_appid,
        wechat_secret=args.wechat_secret,
        wecom_corpid=args.wecom_corpid,
        wecom_corpsecret=args.wecom_corpsecret,
        wecom_agentid=args.wecom_agentid,
        cas_users=users,
        wechat_templates=DEMO_ACCOUNT_TEMPLATES if args.account_templates == "demo" else (),
    )
    if args.cas_service_patterns:
        config.cas_service_patterns = args.cas_service_patterns
    server = make_server(args.host, args.port, create_emulator_app(config), threaded=True)
    print(
        f"Lixiao emulators (WeChat, WeCom, CAS) on http://{args.host}:{server.port}/"
        f" - control API at /_control/, {len(users)} users from file",
        flush=True,
    )
    server.serve_forever()  # werkzeug's loop already ends quietly on Ctrl-C
