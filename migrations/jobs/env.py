from typing import Any

from services.common.migrations import run_env
from services.jobs.models import metadata

# Hand-made search objects (see versions/0001): the FTS5 table and its shadow tables on SQLite,
# the generated tsvector column and its GIN index on PostgreSQL. Not in the models on purpose.
HAND_MADE = ("jobs_fts", "search_vector", "ix_jobs_search_vector")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (name and name.startswith(HAND_MADE))


run_env(metadata, include_object=include_object)
