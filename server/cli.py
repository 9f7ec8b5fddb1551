"""Command-line entry points: `python -m server.cli <command>`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from server.db import make_engine, make_session_factory, transaction
from server.migrate import upgrade
from server.settings import SettingsError, load_settings
from server.timeutil import utcnow

# Without LIXIAO_DATABASE_URL the commands use the database `make demo` uses (scripts/demo.py), not an empty one.
DEMO_DATABASE = Path(__file__).resolve().parent.parent / "var" / "demo" / "lixiao.sqlite3"


def _settings():
    from server.certificates.keys import check_keys
    from server.items import registry

    if not os.environ.get("LIXIAO_DATABASE_URL") and os.environ.get("LIXIAO_ENV", "") != "production":
        DEMO_DATABASE.parent.mkdir(parents=True, exist_ok=True)
        os.environ["LIXIAO_DATABASE_URL"] = f"sqlite:///{DEMO_DATABASE}"
    try:
        settings = load_settings()
        registry.check(settings)
        check_keys(settings)
        return settings
    except SettingsError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)


def _missing_schema(exc: Exception) -> bool:
    text = str(exc).lower()
    return "no such table" in text or "doesn't exist" in text or "(1146" in text


def _no_tables(path: Path) -> bool:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as con:
        return not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchall()


class _Commands(click.Group):
    """Says clearly when the database has no schema yet, instead of a raw traceback (and leaves no empty file)."""

    def invoke(self, ctx: click.Context) -> Any:
        sqlite = DEMO_DATABASE
        existed = sqlite.exists()
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            if not _missing_schema(exc):
                raise
            if not existed and sqlite.exists() and _no_tables(sqlite):
                for leftover in (sqlite, Path(f"{sqlite}-wal"), Path(f"{sqlite}-shm")):
                    leftover.unlink(missing_ok=True)
            url = os.environ.get("LIXIAO_DATABASE_URL", "")
            click.echo(f"数据库尚未建表 / the database has no schema yet: {url}\n"
                       "先运行 / run first: python -m server.cli migrate  (or `make demo`, which also adds demo data)",
                       err=True)
            sys.exit(2)


@click.group(cls=_Commands)
def cli() -> None:
    """Lixiao (离校) administration commands."""


@cli.command()
def migrate() -> None:
    """Bring the database schema to the newest migration."""
    settings = _settings()
    upgrade(settings.database_url)
    click.echo("database migrated / 数据库已迁移到最新版本")


@cli.command("demo-data")
@click.option("--count", default=320, show_default=True, help="How many fictitious students.")
@click.option("--cas-users", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the CAS emulator's accounts (JSON) here.")
def demo_data(count: int, cas_users: Path | None) -> None:
    """Fill an empty database with the fictitious demo cohort."""
    from server.demo_data import fill_demo_data

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("demo data is never written to a production database")
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        cohort = fill_demo_data(session, settings, now=utcnow(), count=count)
    if cas_users:
        cas_users.parent.mkdir(parents=True, exist_ok=True)
        cas_users.write_text(json.dumps(cohort.cas_users, ensure_ascii=False), encoding="utf-8")
    click.echo(f"demo cohort ready: {cohort.students} students / 演示数据：{cohort.students} 名学生")


@cli.command("create-admin")
@click.argument("username")
@click.option("--name", default="", help="Display name.")
def create_admin(username: str, name: str) -> None:
    """Create (or re-activate) an administrator who logs in through CAS or WeCom as USERNAME."""
    from server.audit import record_audit
    from server.identity.models import Staff

    settings = _settings()
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        staff = session.scalars(select(Staff).where(Staff.username == username)).one_or_none()
        before = None if staff is None else {"role": staff.role, "active": staff.active}
        if staff is None:
            staff = Staff(username=username, name=name or username, role="admin")
            session.add(staff)
        staff.role, staff.active, staff.department, staff.college = "admin", True, None, None
        record_audit(session, actor="system:cli", action="staff.create_admin", entity=f"staff:{username}",
                     before=before, after={"role": "admin", "active": True}, origin="cli")
    click.echo(f"administrator {username} ready / 管理员 {username} 已就绪")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a push worker (options: --until-idle, --no-jobs); several may run at once."""
    from server.messaging.worker import main

    main(ctx.args)


@cli.command()
def openapi() -> None:
    """Print the OpenAPI document (the mini-program's contract test reads it)."""
    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings(database_url="sqlite:///:memory:"))
    click.echo(json.dumps(app.api_doc, ensure_ascii=False, indent=1, sort_keys=True))


@cli.command("sa-check-templates")
def sa_check_templates() -> None:
    """Compare LIXIAO_SA_TEMPLATES_FILE with the service account's templates (get_all_private_template)."""
    from wechatpy.exceptions import WeChatException

    from server.messaging import service_account
    from server.redis_client import make_redis

    settings = _settings()
    if not settings.sa_appid:
        click.echo("LIXIAO_SA_APPID is not set: the service-account channel is off.")
        return
    try:
        mapping = service_account.load_mapping(settings.sa_templates_file)
        account = service_account.account_templates(settings, make_redis(settings.redis_url))
    except (service_account.MappingError, WeChatException, OSError) as exc:
        click.echo(f"cannot check: {exc}", err=True)
        sys.exit(1)
    problems = service_account.check_mapping(mapping, account)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{len(mapping)} events map onto the account's templates.")


@cli.command("wechat-templates")
@click.argument("action", type=click.Choice(["check", "sync"]))
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="Keyword mapping to check or write (default: LIXIAO_WX_KEYWORDS_FILE).")
def wechat_templates(action: str, path: str | None) -> None:
    """Match each event's subscribe keywords to the account's templates by name; `sync` writes the mapping.

    Reads the account's templates through wxaapi/newtmpl/gettemplate and names every missing keyword;
    exits 1 when one is missing (or, for `check`, when the mapping file differs from what the account needs).
    """
    from server.messaging import keywords
    from server.messaging.templates import get_templates
    from server.platforms.common import PlatformError
    from server.platforms.wechat import MiniProgramClient, account_templates
    from server.redis_client import make_redis

    settings = _settings()
    path = path or settings.wx_keywords_file
    if not path:
        raise click.ClickException("set LIXIAO_WX_KEYWORDS_FILE (or --file) to the keyword mapping's path")
    templates = get_templates()
    try:
        account = account_templates(MiniProgramClient(settings, make_redis(settings.redis_url)))
    except PlatformError as exc:
        raise click.ClickException(f"cannot read the account's templates / 无法读取账号模板: {exc}") from exc
    found = keywords.compare(settings, templates, account)
    for event in sorted(templates):
        for line in found.problems.get(event, []):
            click.echo(f"MISSING {event}: {line}")
        for name in found.extra.get(event, []):
            click.echo(f"note    {event}: the account's keyword {name} is filled by nothing")
        if event not in found.problems:
            click.echo(f"ok      {event}: " + ", ".join(f"{n}={k}" for n, k in found.mapping[event].items()))
    if action == "sync":
        keywords.save_map(path, found.mapping)
        click.echo(f"mapping written to {path} / 关键词映射已写入")
    else:
        saved = keywords.load_map(settings.with_overrides(wx_keywords_file=path), templates)
        stale = sorted(e for e in templates if e not in found.problems and saved.get(e) != found.mapping[e])
        for event in stale:
            click.echo(f"STALE   {event}: {path} differs from the account; run `wechat-templates sync`")
        if stale:
            sys.exit(1)
    if not found.ok:
        click.echo("some keywords are missing: their pushes are held / 部分关键词缺失，相关推送暂停", err=True)
        sys.exit(1)


@cli.group()
def cache() -> None:
    """The status page's read cache (server/readcache/)."""


@cache.command("retire")
def cache_retire() -> None:
    """Retire every cached status page at once (after changing data with raw SQL, e.g. a DBA's UPDATE)."""
    from server.audit import record_audit
    from server.clearance.versions import retire_all

    settings = _settings()
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        epoch = retire_all(session)
        record_audit(session, actor="system:cli", action="cache.retire", entity="data_epoch", before=None,
                     after={"epoch": epoch}, origin="cli")
    click.echo(f"every cached status page retired (epoch {epoch}) / 已作废全部状态缓存")


def _add_departmental_commands() -> None:
    from server.departments.cli import department_key
    from server.imports.cli import import_command

    cli.add_command(department_key)
    cli.add_command(import_command)


_add_departmental_commands()

if __name__ == "__main__":
    cli()
