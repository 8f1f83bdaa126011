"""The SQL database under a registry: engine set-up, transactions and savepoints.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on; write
transactions start with ``BEGIN IMMEDIATE`` so that concurrent writers queue for the
lock up front instead of failing half-way, and a "database is locked" error at that
point is retried with back-off. PostgreSQL uses its default READ COMMITTED isolation;
checks that must not race (calibration validity) lock the collection row they touch.
"""

from __future__ import annotations

import operator
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy
from sqlalchemy.pool import StaticPool

from osprey.utils import get_logger

from .._exceptions import ButlerError

__all__ = ["Database"]

_log = get_logger(__name__)


def _is_locked(err: BaseException) -> bool:
    text = str(getattr(err, "orig", err)).lower()
    return "database is locked" in text or "database is busy" in text


class _Frame:
    """Actions attached to one (sub)transaction: undo on rollback, hooks after commit."""

    __slots__ = ("undo", "on_commit")

    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []
        self.on_commit: list[Callable[[], None]] = []


class Database:
    """An SQLAlchemy engine plus per-thread transaction state.

    Parameters
    ----------
    url : `str`
        SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``).
    namespace : `str`, optional
        Database schema holding the tables (PostgreSQL); None for the default.
    busy_timeout_s : `float`
        How long SQLite waits for another writer's lock before reporting it locked.
    max_retries : `int`
        Attempts to start a write transaction when SQLite still reports it locked.
    """

    def __init__(self, url: str, *, namespace: str | None = None, busy_timeout_s: float = 60.0, max_retries: int = 8):
        self.url = url
        self.namespace = namespace
        self.busy_timeout_s = busy_timeout_s
        self.max_retries = max_retries
        self.is_sqlite = url.startswith("sqlite")
        self._in_memory = self.is_sqlite and url in ("sqlite://", "sqlite:///:memory:")
        if self.is_sqlite:
            kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_timeout_s, "check_same_thread": False}}
            if self._in_memory:
                kwargs["poolclass"] = StaticPool
            self.engine = sqlalchemy.create_engine(url, **kwargs)
            sqlalchemy.event.listen(self.engine, "connect", self._on_sqlite_connect)
            sqlalchemy.event.listen(self.engine, "begin", self._on_sqlite_begin)
        else:
            self.engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
        self.metadata = sqlalchemy.MetaData(schema=namespace)
        self._local = threading.local()
        self._raw_inserts: dict[tuple, tuple[str, tuple[str, ...]] | None] = {}

    # -- SQLite connection set-up ------------------------------------------------------
    def _on_sqlite_connect(self, dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN (the pysqlite recipe), so savepoints
        # and transactional DDL behave, and so writers can use BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # PRAGMA takes no bound parameters; the value is our own integer, never user input.
            cursor.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not self._in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @staticmethod
    def _on_sqlite_begin(conn: sqlalchemy.Connection) -> None:
        write = conn.get_execution_options().get("osprey_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    # -- transactions --------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        """True when this thread is inside `transaction`."""
        return getattr(self._local, "conn", None) is not None

    def _begin_outer(self) -> tuple[sqlalchemy.Connection, sqlalchemy.RootTransaction]:
        delay = 0.02
        for attempt in range(self.max_retries):
            conn = self.engine.connect()
            if self.is_sqlite:
                conn = conn.execution_options(osprey_write=True)
            try:
                return conn, conn.begin()
            except sqlalchemy.exc.OperationalError as err:
                conn.close()
                if not _is_locked(err) or attempt == self.max_retries - 1:
                    raise
                _log.verbose("database %s is locked; retrying (attempt %d)", self.url, attempt + 1)
                time.sleep(delay * (1.0 + random.random()))
                delay = min(delay * 2.0, 2.0)
        raise AssertionError("unreachable")

    @contextmanager
    def transaction(self, *, savepoint: bool = True) -> Iterator[sqlalchemy.Connection]:
        """A write transaction; nested calls become savepoints.

        With ``savepoint=False`` a nested call just joins the enclosing transaction (for
        methods that need a transaction but not their own rollback point; an error in
        them still rolls back the enclosing savepoint or transaction).

        If the block raises, its rows are rolled back and the undo actions registered in
        it (`register_undo`, e.g. deleting files just written) run in reverse order. On
        commit of a savepoint its actions pass to the enclosing transaction; after the
        outermost commit the `on_commit` hooks run (e.g. deleting files of removed
        datasets).
        """
        state = self._local
        conn: sqlalchemy.Connection | None = getattr(state, "conn", None)
        if conn is None:
            conn, trans = self._begin_outer()
            frame = _Frame()
            state.conn, state.frames = conn, [frame]
            try:
                try:
                    yield conn
                except BaseException:
                    trans.rollback()
                    raise
                else:
                    trans.commit()
            except BaseException:
                state.conn, state.frames = None, []
                conn.close()
                self._run(reversed(frame.undo), "undo")
                raise
            state.conn, state.frames = None, []
            conn.close()
            self._run(frame.on_commit, "post-commit")
        elif not savepoint:
            yield conn
        else:
            frame = _Frame()
            nested = conn.begin_nested()
            state.frames.append(frame)
            try:
                yield conn
            except BaseException:
                state.frames.pop()
                nested.rollback()
                self._run(reversed(frame.undo), "undo")
                raise
            state.frames.pop()
            nested.commit()
            state.frames[-1].undo.extend(frame.undo)
            state.frames[-1].on_commit.extend(frame.on_commit)

    def insert_many(self, conn: sqlalchemy.Connection, table: sqlalchemy.Table, rows: list[dict[str, Any]]) -> None:
        """INSERT many rows that all have the same keys (one executemany).

        On SQLite, when no column needs a bind processor (plain ints, strings, floats,
        bytes), the compiled INSERT is handed to the driver's ``executemany`` directly
        with positional parameters, skipping SQLAlchemy's per-row parameter handling;
        otherwise (and on PostgreSQL, where SQLAlchemy batches rows into multi-row
        VALUES) it is an ordinary ``conn.execute(table.insert(), rows)``.
        """
        if not rows:
            return
        if not self.is_sqlite or len(rows) < 64:
            conn.execute(table.insert(), rows)
            return
        columns = tuple(rows[0])
        key = (table.fullname, columns)
        plan = self._raw_inserts.get(key)
        if plan is None:
            dialect = self.engine.dialect
            raw = all(table.c[c].type.dialect_impl(dialect).bind_processor(dialect) is None for c in columns)
            compiled = table.insert().compile(dialect=dialect, column_keys=list(columns)) if raw else None
            plan = self._raw_inserts[key] = (
                (compiled.string, tuple(compiled.positiontup or ())) if compiled is not None else None
            )
        if plan is None or set(plan[1]) != set(columns):
            conn.execute(table.insert(), rows)
            return
        sql, order = plan
        getter = operator.itemgetter(*order)
        try:
            params = [getter(r) for r in rows] if len(order) > 1 else [(getter(r),) for r in rows]
        except KeyError:  # rows with different keys: let SQLAlchemy handle (and report) them
            conn.execute(table.insert(), rows)
            return
        conn.exec_driver_sql(sql, params)

    @staticmethod
    def _run(actions: Any, what: str) -> None:
        for action in actions:
            try:
                action()
            except Exception as err:  # a failed clean-up must not hide the original error
                _log.warning("%s action %r failed: %s", what, action, err)

    def register_undo(self, action: Callable[[], None]) -> None:
        """Run ``action`` if the current (sub)transaction rolls back; must be in one."""
        if not self.in_transaction:
            raise ButlerError("register_undo called outside a transaction")
        self._local.frames[-1].undo.append(action)

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` after the outermost transaction commits (now if there is none)."""
        if not self.in_transaction:
            action()
        else:
            self._local.frames[-1].on_commit.append(action)

    @contextmanager
    def connection(self) -> Iterator[sqlalchemy.Connection]:
        """A connection for reads: the current transaction's, or a fresh one."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as fresh:
            yield fresh

    def dispose(self) -> None:
        """Close pooled connections (call before forking, or when done)."""
        self.engine.dispose()
