"""Every table of the benefits service, imported in one place for Alembic."""

from services.benefits.database import Base

metadata = Base.metadata

__all__ = ["metadata"]
