"""make backup / make restore for the embedded default: a running-service-style SQLite database
(WAL mode, open connection) is backed up consistently and restored byte-for-byte in content."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.stack import REPO


def _run(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "scripts.backup", *args], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_backup_then_restore_brings_back_the_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "pii-x.keys").write_text("k1:secret")
    (data / "attachments").mkdir()
    (data / "attachments" / "a1").write_bytes(b"%PDF-1.4 evidence")
    live = sqlite3.connect(data / "jobs.db")
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("CREATE TABLE t (v TEXT)")
    live.execute("INSERT INTO t VALUES ('before')")
    live.commit()  # still open, as under `make run`
    archive = Path(_run("backup", "--data-dir", str(data), "--dest", str(tmp_path / "backups")))
    assert archive.exists() and oct(archive.stat().st_mode)[-3:] == "600"

    live.execute("INSERT INTO t VALUES ('after')")
    live.commit()
    live.close()
    (data / "attachments" / "a1").unlink()

    _run("restore", "--data-dir", str(data), "--archive", str(archive))
    with sqlite3.connect(data / "jobs.db") as db:
        assert [r[0] for r in db.execute("SELECT v FROM t")] == ["before"]
    assert (data / "attachments" / "a1").read_bytes() == b"%PDF-1.4 evidence"
    assert (data / "keys" / "pii-x.keys").read_text() == "k1:secret"


def test_restore_refuses_a_missing_archive(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "scripts.backup", "restore", "--data-dir", str(tmp_path),
                             "--archive", str(tmp_path / "nope.tar.gz")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
