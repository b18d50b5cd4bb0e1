"""A PostgreSQL server for the Dagster instance, as the AWS deployment has one (RDS): the rehearsal of the
production instance that `wildrydes local up --dagster-storage postgres` runs.

Debian's `postgresql` package's server, run by the supervisor like any other backend: its cluster is created
once in ``<data dir>/postgres`` (initdb) and kept across restarts, it listens on 127.0.0.1 only (no Unix
socket), and Dagster logs in as ``dagster`` to the database ``dagster`` with a password generated with the
cluster (``<data dir>/postgres.password``, mode 0600), which Dagster reads from ``DAGSTER_PG_PASSWORD`` as the
ECS task definition hands it the secret's value on AWS.

PostgreSQL refuses to run as root. Under root the server runs through ``unshare`` in a user namespace of its
own, as an unprivileged user there that is root outside: the cluster's files are root's own, so no other
account needs to reach the data directory.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from localaws.errors import LocalError
from localaws.supervisor.supervisor import Component

DB_NAME = "dagster"
DB_USER = "dagster"
PASSWORD_ENV = "DAGSTER_PG_PASSWORD"
CLUSTER_DIR = "postgres"
PASSWORD_FILE = "postgres.password"
DEFAULT_PORT = 5433  # beside a system server on 5432
_NAMESPACE_USER = "65534"  # nobody: the server's user inside its namespace, when started by root
INIT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Postgres:
    cluster: Path
    port: int
    password: str
    bin_dir: Path
    launcher: tuple[str, ...]  # what the server's programs are started through (unshare, under root)

    def component(self) -> Component:
        return Component("postgres", [str(self.bin_dir / "postgres"), "-D", str(self.cluster),
                                      "-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
                                      "-c", "unix_socket_directories="],
                         ready_port=self.port, launcher=self.launcher, stop_signal=signal.SIGINT)

    def env(self) -> dict[str, str]:
        return {PASSWORD_ENV: self.password}


def find_bin_dir() -> Path:
    """The server's programs: those on PATH, else the newest Debian package's."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                      if p.parent.parent.name.isdigit() else 0)
    if versions:
        return versions[-1].parent
    raise LocalError("--dagster-storage postgres needs a PostgreSQL server and none was found (initdb on PATH or "
                     "under /usr/lib/postgresql): install Debian's postgresql package (`make test` does)")


def launcher() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()
    unshare = shutil.which("unshare")
    if unshare is None:
        raise LocalError("PostgreSQL does not run as root, and unshare (util-linux), which would run it as another "
                         "user, is missing: run `wildrydes local up` as another user")
    return (unshare, "--user", f"--map-user={_NAMESPACE_USER}", f"--map-group={_NAMESPACE_USER}")


def prepare(data_dir: Path, port: int = DEFAULT_PORT) -> Postgres:
    """The server of ``data_dir``, its cluster created if there is none yet (with the database and user)."""
    server = Postgres(data_dir / CLUSTER_DIR, port, _password(data_dir), find_bin_dir(), launcher())
    if not (server.cluster / "PG_VERSION").exists():
        _create_cluster(server)
    return server


def _password(data_dir: Path) -> str:
    path = data_dir / PASSWORD_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def _create_cluster(server: Postgres) -> None:
    """initdb into a scratch directory, the database created in single-user mode (nothing listens), then
    renamed into place: a cluster interrupted half-way is never taken for a ready one."""
    parent = server.cluster.parent
    with tempfile.TemporaryDirectory(dir=parent, prefix=".postgres-init-") as scratch:
        cluster = Path(scratch) / "cluster"
        password_file = Path(scratch) / "password"
        password_file.write_text(server.password + "\n")
        _run(server, [str(server.bin_dir / "initdb"), "-D", str(cluster), "-U", DB_USER, f"--pwfile={password_file}",
                      "-E", "UTF8", "--no-locale", "--auth=scram-sha-256"])
        _run(server, [str(server.bin_dir / "postgres"), "--single", "-D", str(cluster), "postgres"],
             stdin=f"CREATE DATABASE {DB_NAME}\n")
        shutil.rmtree(server.cluster, ignore_errors=True)  # a cluster without PG_VERSION is no cluster
        cluster.rename(server.cluster)


def _run(server: Postgres, argv: list[str], stdin: str | None = None) -> None:
    result = subprocess.run([*server.launcher, *argv], input=stdin, capture_output=True, text=True,
                            timeout=INIT_TIMEOUT_S, check=False)
    if result.returncode != 0:
        raise LocalError(f"creating the PostgreSQL cluster failed ({os.path.basename(argv[0])}): "
                         f"{(result.stderr or result.stdout).strip()[-800:]}")
