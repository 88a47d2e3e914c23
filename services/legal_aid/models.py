"""Every table of the legal_aid service, imported in one place for Alembic."""

from services.legal_aid.database import Base

metadata = Base.metadata

__all__ = ["metadata"]
