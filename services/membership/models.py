"""Every table of the membership service, imported in one place for Alembic."""

from services.membership.applications.models import Application
from services.membership.audit.models import AuditEntry
from services.membership.database import Base
from services.membership.events.models import OutboxEvent, ProcessedEvent
from services.membership.members.models import Card, Member
from services.membership.orgs.models import Org
from services.membership.qr.models import QrToken
from services.membership.transfers.models import Transfer

metadata = Base.metadata

__all__ = ["Application", "AuditEntry", "Card", "Member", "Org", "OutboxEvent", "ProcessedEvent", "QrToken", "Transfer",
           "metadata"]
