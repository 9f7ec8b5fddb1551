"""The file import command: `python -m server.cli import KIND FILE` (a roster, or an item's records)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from server.db import make_engine, make_session_factory, transaction
from server.imports.columns import kinds
from server.items import registry
from server.settings import Settings, SettingsError, load_settings
from server.timeutil import utcnow


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)


@click.command("import")
@click.argument("kind", type=click.Choice(kinds(registry.known())))
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
