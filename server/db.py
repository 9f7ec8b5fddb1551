"""Database engine, declarative base and the request-scoped session."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic autogenerate and MySQL/SQLite agree.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, always hands back aware UTC datetimes (SQLite and MySQL drop the offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING)


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of an SQLite file database, so a fresh checkout just works."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, sqlite_immediate: bool = True) -> Engine:
    """An engine configured for the backend the URL names.

    On SQLite every transaction takes the write lock up front (`sqlite_immediate`), which is what
    SELECT … FOR UPDATE means elsewhere; tools that only read may turn that off.
    """
    if url.startswith("sqlite"):
        ensure_sqlite_folder(url)
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # pysqlite's own transaction handling must be off for the BEGIN below to be ours.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the one writer
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_immediate else "BEGIN")

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=3600,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        isolation_level="READ COMMITTED",
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back on error."""
    with factory() as session, session.begin():
        yield session


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows (tuples of Core values in `columns`' order) in the session's transaction.

    On MySQL/MariaDB the rows go to the driver through `exec_driver_sql`, so PyMySQL's executemany folds
    them into multi-row INSERTs (its fast path) without SQLAlchemy's per-parameter executemany machinery;
    the columns whose types convert values (UTCDateTime, JSON, Boolean) go through those same type's bind
    processors here, column by column, and the columns not given get their Python-side defaults (a callable
    such as `utcnow` is called once for the statement). Elsewhere (SQLite) this is Core's executemany. Either way the
    statement passes the engine's events (the read cache sees it).
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name not in ("mysql", "mariadb") or dialect.paramstyle not in ("format", "pyformat"):
        session.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    # Python-side defaults of the columns not given, as Core would fill them in (a callable once per statement).
    omitted = [c for c in table.c if c.name not in columns and c.default is not None]
    if omitted:
        filled = tuple(c.default.arg if c.default.is_scalar else c.default.arg(None)  # type: ignore[attr-defined]
                       for c in omitted)
        columns = (*columns, *[c.name for c in omitted])
        rows = [(*row, *filled) for row in rows]
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    converters = [(i, convert) for i, convert in enumerate(processors) if convert is not None]
    values: list[tuple[Any, ...]] = [tuple(row) for row in rows]
    if converters:
        for n, row in enumerate(values):
            mutable = list(row)
            for i, convert in converters:
                mutable[i] = convert(mutable[i])
            values[n] = tuple(mutable)
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    # Only identifiers from the table's own metadata and %s placeholders: values travel as parameters.
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608  # nosec B608
    connection.exec_driver_sql(sql, values)
