"""Backup and restore of the embedded default (SQLite files, keys, attachments).

    make backup                      → .data-backups/<UTC timestamp>.tar.gz
    make restore BACKUP=<file>       → replaces the data dir with the backup (stop `make run` first)

SQLite files are copied with SQLite's online backup API, so a backup taken while the services
run is consistent per database. PostgreSQL deployments use pg_dump instead (see README)."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def backup(data_dir: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"smartunion-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(target, "w:gz") as tar:
        for db in sorted(data_dir.glob("*.db")):
            copy = Path(tmp) / db.name
            with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
                src.backup(dst)
            tar.add(copy, arcname=db.name)
        for sub in ("keys", "attachments"):
            if (data_dir / sub).exists():
                tar.add(data_dir / sub, arcname=sub)
    target.chmod(0o600)  # it holds encryption keys and personal data
    return target


def restore(archive: Path, data_dir: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            if m.name.startswith(("/", "..")) or ".." in Path(m.name).parts or not (m.isfile() or m.isdir()):
                raise SystemExit(f"refusing unsafe archive member {m.name!r}")
        staging = data_dir.with_name(data_dir.name + ".restoring")
        shutil.rmtree(staging, ignore_errors=True)
        tar.extractall(staging, members=members)  # noqa: S202 - members checked above
    for leftover in data_dir.glob("*.db-*"):  # stale WAL/SHM of the replaced databases
        leftover.unlink()
    if data_dir.exists():
        shutil.rmtree(data_dir)
    staging.rename(data_dir)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["backup", "restore"])
    parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    parser.add_argument("--dest", type=Path, default=Path(".data-backups"))
    parser.add_argument("--archive", type=Path)
    args = parser.parse_args(argv)
    if args.command == "backup":
        print(backup(args.data_dir, args.dest))
        return 0
    if not args.archive or not args.archive.exists():
        print("restore needs --archive <file> (make restore BACKUP=<file>)", file=sys.stderr)
        return 2
    restore(args.archive, args.data_dir)
    print(f"restored {args.archive} into {args.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
