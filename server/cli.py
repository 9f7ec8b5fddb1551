"""Command-line entry points: `python -m server.cli <command>`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import select

from server.db import make_engine, make_session_factory, transaction
from server.migrate import upgrade
from server.settings import SettingsError, load_settings
from server.timeutil import utcnow


def _settings():  # type: ignore[no-untyped-def]
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)


@click.group()
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


def _add_departmental_commands() -> None:
    from server.departments.cli import department_key, import_command

    cli.add_command(department_key)
    cli.add_command(import_command)


_add_departmental_commands()

if __name__ == "__main__":
    cli()
