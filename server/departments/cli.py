"""CLI commands of departmental systems: their signing keys for the departmental API."""

from __future__ import annotations

import sys

import click

from server.db import make_engine, make_session_factory, transaction
from server.items import registry
from server.settings import Settings, SettingsError, load_settings
from server.timeutil import local_display, utcnow


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)


@click.group("department-key")
def department_key() -> None:
    """Signing keys of departmental systems (the departmental API)."""


@department_key.command("create")
@click.argument("department", type=click.Choice(list(registry.known())))
@click.option("--label", default="", help="What system holds the key, e.g. 'library ILS'.")
def create_key_command(department: str, label: str) -> None:
    """Issue a key for DEPARTMENT and print its id and secret (shown this once only)."""
    from server.departments.credentials import create_key

    settings = _settings()
    with transaction(make_session_factory(make_engine(settings.database_url))) as session:
        issued = create_key(session, settings.secret_key, department, label=label, now=utcnow())
    click.echo(f"key_id={issued.key_id}")
    click.echo(f"secret={issued.secret}")
    click.echo(f"fingerprint={issued.fingerprint}")
    click.echo("请立即妥善保存密钥，它不会再次显示 / Store the secret now: it is not shown again.", err=True)


@department_key.command("list")
def list_keys_command() -> None:
    """List keys (ids, departments, fingerprints; never secrets)."""
    from server.departments.credentials import list_keys

    settings = _settings()
    with transaction(make_session_factory(make_engine(settings.database_url))) as session:
        for row in list_keys(session):
            state = f"revoked {local_display(row.revoked_at)}" if row.revoked_at else "active"
            click.echo(f"{row.key_id}\t{row.department}\t{row.fingerprint[:16]}…\t{state}\t{row.label}")


@department_key.command("revoke")
@click.argument("key_id")
def revoke_key_command(key_id: str) -> None:
    """Revoke a key; requests signed with it are refused from now on."""
    from server.departments.credentials import revoke_key

    settings = _settings()
    with transaction(make_session_factory(make_engine(settings.database_url))) as session:
        done = revoke_key(session, key_id, now=utcnow())
    if not done:
        raise click.ClickException(f"no live key {key_id} / 没有该密钥")
    click.echo(f"revoked {key_id} / 已吊销")
