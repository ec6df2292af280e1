"""The throwaway database every benchmark runs in: a temp SQLite file, or a PostgreSQL database
created next to BENCH_DATABASE_URL and dropped at the end."""
import secrets
import shutil
import tempfile
import urllib.parse


class ThrowawayDatabase:
    """A database URL that exists only for this run."""

    def __init__(self, server_url: str | None):
        self.server_url = server_url
        self.tmpdir = None
        self.pg_name = None
        if not server_url:
            self.tmpdir = tempfile.mkdtemp(prefix="coop-bench-")
            self.url = f"sqlite:///{self.tmpdir}/bench.sqlite3"
            return
        parts = urllib.parse.urlsplit(server_url)
        if not parts.scheme.startswith("postgres"):
            raise SystemExit("BENCH_DATABASE_URL must be a postgres:// URL (or unset for SQLite).")
        self.pg_name = f"coopmarket_bench_{secrets.token_hex(4)}"
        self._admin(f'CREATE DATABASE "{self.pg_name}"')
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.pg_name))

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(statement)

    def drop(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
        if self.pg_name:
            from django.db import connections

            connections.close_all()
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
