"""The task register: SQLAlchemy models, queries and the domain rules beside their data."""

from models.accounts import ChatAccount, LinkCode
from models.attachments import Attachment
from models.base import Base
from models.calendar import CalendarOverride
from models.conversations import Conversation
from models.coordination import ChatSendBudget, SendBudget
from models.deadlines import ChangeState, DeadlineChange
from models.documents import Document, DocumentKind
from models.matrix_state import MatrixState
from models.notices import Notice
from models.organization import Official, OfficialRole, Role, Unit, UnitKind
from models.outbox import DeliveryAttempt, OutboxMessage, OutboxState
from models.tasks import Channel, Task, TaskEvent, TaskStatus
from models.urgings import Urging

__all__ = [
    "Attachment",
    "Base",
    "CalendarOverride",
    "ChangeState",
    "Channel",
    "ChatAccount",
    "ChatSendBudget",
    "Conversation",
    "DeadlineChange",
    "DeliveryAttempt",
    "Document",
    "DocumentKind",
    "LinkCode",
    "MatrixState",
    "Notice",
    "Official",
    "OfficialRole",
    "OutboxMessage",
    "OutboxState",
    "Role",
    "SendBudget",
    "Task",
    "TaskEvent",
    "TaskStatus",
    "Unit",
    "UnitKind",
    "Urging",
]
