"""Every table of the jobs service, imported in one place for Alembic."""

from services.jobs.database import Base

metadata = Base.metadata

__all__ = ["metadata"]
