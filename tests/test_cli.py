"""`python -m server.cli`: the demo's database by default, and a clear word when the schema is missing (#17)."""

from __future__ import annotations

from click.testing import CliRunner

from server import cli


def test_a_database_without_schema_is_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "DEMO_DATABASE", tmp_path / "var" / "demo" / "lixiao.sqlite3")
    monkeypatch.delenv("LIXIAO_DATABASE_URL", raising=False)
    monkeypatch.setenv("LIXIAO_ENV", "development")
    result = CliRunner().invoke(cli.cli, ["create-admin", "someone"])
    assert result.exit_code == 2, result.output
    assert "数据库尚未建表" in result.output and "python -m server.cli migrate" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "var" / "demo" / "lixiao.sqlite3").exists()  # no empty file left behind


def test_the_default_database_is_the_demos(tmp_path, monkeypatch):
    demo = tmp_path / "var" / "demo" / "lixiao.sqlite3"
    monkeypatch.setattr(cli, "DEMO_DATABASE", demo)
    monkeypatch.delenv("LIXIAO_DATABASE_URL", raising=False)
    monkeypatch.setenv("LIXIAO_ENV", "development")
    assert CliRunner().invoke(cli.cli, ["migrate"]).exit_code == 0
    assert demo.exists() and demo.stat().st_size > 0
    assert CliRunner().invoke(cli.cli, ["create-admin", "someone"]).exit_code == 0
