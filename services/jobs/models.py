"""Every table of the jobs service, imported in one place for Alembic."""

from services.jobs.applications.models import Application
from services.jobs.database import Base
from services.jobs.events.models import OutboxEvent, ProcessedEvent
from services.jobs.postings.models import Job

metadata = Base.metadata

__all__ = ["Application", "Job", "OutboxEvent", "ProcessedEvent", "metadata"]
