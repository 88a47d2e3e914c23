from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase

from services.common.db import make_metadata

# Materialised org paths ("/<rootid>/<childid>/…/"). Subtree queries are a range on this column
# (path >= p AND path < p-with-last-"/"-bumped), so it must compare byte-wise: SQLite does by
# default, PostgreSQL needs the "C" collation whatever the database locale is.
PATH_LENGTH = 600
PathString = String(PATH_LENGTH).with_variant(String(PATH_LENGTH, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = make_metadata()
