"""Options for Alembic's comparison, shared by env.py and the migration tests.

The hand-made search objects (versions/0001) are not in the models on purpose: the FTS5 table
and its shadow tables on SQLite, the generated tsvector column and its GIN index on PostgreSQL.
"""

from typing import Any

HAND_MADE = ("jobs_fts", "search_vector", "ix_jobs_search_vector")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (name and name.startswith(HAND_MADE))


OPTIONS: dict[str, Any] = {"include_object": include_object}
