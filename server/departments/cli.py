"""CLI commands of departmental data: signing keys for departmental systems, and file imports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from server.db import make_engine, make_session_factory, transaction
from server.imports.columns import KINDS
from server.settings import DEPARTMENTS, Settings, SettingsError, load_settings
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
@click.argument("department", type=click.Choice(DEPARTMENTS))
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


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch", "batch_name", default=None, help="The batch of a roster file (unless it has a batch column).")
@click.option("--apply-valid", is_flag=True, help="Write the valid rows even if some rows are rejected.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole per-row report as JSON.")
def import_command(kind: str, file: Path, batch_name: str | None, apply_valid: bool, as_json: bool) -> None:
    """Import a roster or departmental CSV/XLSX FILE; by default a file with any rejected row writes nothing."""
    from server.imports.reader import ImportFileError
    from server.imports.records import import_file
    from server.sources import build_sources

    settings = _settings()
    data = file.read_bytes()
    if len(data) > settings.upload_limit_bytes:
        raise click.ClickException(f"file larger than {settings.upload_limit_bytes} bytes / 文件超过大小上限")
    try:
        with transaction(make_session_factory(make_engine(settings.database_url))) as session:
            report = import_file(session, settings, build_sources(settings), kind, data, file.name,
                                 actor="system:cli", origin="cli", now=utcnow(), batch_name=batch_name,
                                 apply_valid=apply_valid)
    except ImportFileError as exc:
        raise click.ClickException(f"{exc.message} / {exc.message_en}") from exc
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        for row in report.rejected:
            click.echo(f"第 {row.row} 行 row {row.row} [{row.student_no}]: {row.message} / {row.message_en}")
        if report.ignored_columns:
            click.echo(f"忽略的列 ignored columns: {', '.join(report.ignored_columns)}")
        click.echo(report.summary())
    if report.rejected and not report.applied:
        sys.exit(1)
