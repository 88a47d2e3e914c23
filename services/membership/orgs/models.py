from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import UtcDateTime, utcnow
from services.common.ids import new_id
from services.membership.database import Base, PathString


class Org(Base):
    """A union organisation. `path` is the materialised path of ids from the root, set once at
    creation (orgs never move), so "inside Y's subtree" is an indexed prefix range."""

    __tablename__ = "orgs"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("orgs.id"), index=True)
    path: Mapped[str] = mapped_column(PathString, unique=True)
    depth: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
