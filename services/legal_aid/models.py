"""Every table of the legal_aid service, imported in one place for Alembic."""

from services.legal_aid.attachments.models import Attachment
from services.legal_aid.database import Base
from services.legal_aid.events.models import OutboxEvent, ProcessedEvent
from services.legal_aid.messages.models import Message
from services.legal_aid.tickets.models import Rating, Ticket, TicketEvent
from services.legal_aid.workdays.models import CalendarDay

metadata = Base.metadata

__all__ = ["Attachment", "CalendarDay", "Message", "OutboxEvent", "ProcessedEvent", "Rating", "Ticket", "TicketEvent",
           "metadata"]
