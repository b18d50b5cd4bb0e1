"""The PostgreSQL server of `local up --dagster-storage postgres` (localaws/supervisor/postgres.py): created once
in the data directory, on loopback only, with the password it generated, and its data kept across a restart."""

from __future__ import annotations

import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2
import pytest

from localaws.supervisor import postgres
from localaws.supervisor.preflight import free_port


def started(server: postgres.Postgres) -> subprocess.Popen[bytes]:
    """The server as the supervisor starts it (its component's launcher and argv), once it accepts logins."""
    component = server.component()
    process = subprocess.Popen([*component.launcher, *component.argv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            connect(server).close()
            return process
        except psycopg2.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def connect(server: postgres.Postgres, password: str | None = None) -> psycopg2.extensions.connection:
    return psycopg2.connect(host="127.0.0.1", port=server.port, user=postgres.DB_USER, dbname=postgres.DB_NAME,
                            password=server.password if password is None else password, connect_timeout=5)


def stop(server: postgres.Postgres, process: subprocess.Popen[bytes]) -> None:
    """As the supervisor stops it: a fast shutdown, which does not wait for clients to leave."""
    process.send_signal(server.component().stop_signal)
    assert process.wait(30) == 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[postgres.Postgres]:
    yield postgres.prepare(tmp_path / "data", free_port())


def test_a_cluster_created_once_serves_dagsters_database_on_loopback(server: postgres.Postgres) -> None:
    password_file = server.cluster.parent / postgres.PASSWORD_FILE
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600 and len(server.password) >= 24
    process = started(server)
    try:
        listening = {c.laddr.ip for c in psutil.net_connections("tcp")
                     if c.status == "LISTEN" and c.laddr.port == server.port}
        assert listening == {"127.0.0.1"}
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            connect(server, password="wrong")
        with connect(server) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE runs (id text PRIMARY KEY)")
            cursor.execute("INSERT INTO runs VALUES ('kept')")
    finally:
        stop(server, process)
    again = postgres.prepare(server.cluster.parent, server.port)  # an existing cluster is kept as it is
    assert again.password == server.password
    process = started(again)
    try:
        with connect(again) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT id FROM runs")
            assert cursor.fetchall() == [("kept",)]
    finally:
        stop(again, process)
