"""Every table of the membership service, imported in one place for Alembic."""

from services.membership.database import Base

metadata = Base.metadata

__all__ = ["metadata"]
