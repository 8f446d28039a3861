"""The task register: SQLAlchemy models, queries and the domain rules beside their data.

The models load when first asked for (`from models import Task`, `models.Base`) or when
SQLAlchemy first configures its mappers, all of them together: importing one module of the
package (`models.clock`, `models.db`) does not load SQLAlchemy's ORM, so `dondoc --help`
starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "ChatSendBudget": "models.coordination",
    "SendBudget": "models.coordination",
    "SendToken": "models.coordination",
    "TaskProposal": "models.proposals",
    "ThrottleState": "models.throttles",
    "Series": "models.recurrence",
    "ExplanationState": "models.explanations",
    "Explanation": "models.explanations",
    "Contribution": "models.contributions",
    "Attachment": "models.attachments",
    "Base": "models.base",
    "CalendarOverride": "models.calendar",
    "ChangeState": "models.deadlines",
    "Channel": "models.tasks",
    "ChatAccount": "models.accounts",
    "Conversation": "models.conversations",
    "DeadlineChange": "models.deadlines",
    "DeliveryAttempt": "models.outbox",
    "Document": "models.documents",
    "DocumentKind": "models.documents",
    "LinkCode": "models.accounts",
    "MatrixState": "models.matrix_state",
    "Notice": "models.notices",
    "Official": "models.organization",
    "OfficialRole": "models.organization",
    "OutboxMessage": "models.outbox",
    "OutboxState": "models.outbox",
    "Role": "models.organization",
    "Task": "models.tasks",
    "TaskEvent": "models.tasks",
    "TaskStatus": "models.tasks",
    "Unit": "models.organization",
    "UnitKind": "models.organization",
    "Urging": "models.urgings",
    "DataVersion": "models.report_store",
    "StoredReport": "models.report_store",
    "task_tallies": "models.tallies",
    "silence_tallies": "models.silence_tallies",
    "city_tallies": "models.city_tallies",
}
__all__ = [
    "Attachment",
    "Base",
    "CalendarOverride",
    "ChangeState",
    "Channel",
    "ChatAccount",
    "ChatSendBudget",
    "Contribution",
    "Conversation",
    "DataVersion",
    "DeadlineChange",
    "DeliveryAttempt",
    "Document",
    "DocumentKind",
    "Explanation",
    "ExplanationState",
    "LinkCode",
    "MatrixState",
    "Notice",
    "Official",
    "OfficialRole",
    "OutboxMessage",
    "OutboxState",
    "Role",
    "SendBudget",
    "SendToken",
    "Series",
    "StoredReport",
    "Task",
    "TaskEvent",
    "TaskProposal",
    "TaskStatus",
    "ThrottleState",
    "Unit",
    "UnitKind",
    "Urging",
    "city_tallies",
    "silence_tallies",
    "task_tallies",
]


def load_all() -> None:
    """Every module that declares a table, so that the metadata and the mappers are whole."""
    for module in sorted(set(_WHERE.values())):
        importlib.import_module(module)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    load_all()
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from models.accounts import ChatAccount, LinkCode
    from models.attachments import Attachment
    from models.base import Base
    from models.calendar import CalendarOverride
    from models.city_tallies import city_tallies
    from models.contributions import Contribution
    from models.conversations import Conversation
    from models.coordination import ChatSendBudget, SendBudget, SendToken
    from models.deadlines import ChangeState, DeadlineChange
    from models.documents import Document, DocumentKind
    from models.explanations import Explanation, ExplanationState
    from models.matrix_state import MatrixState
    from models.notices import Notice
    from models.organization import Official, OfficialRole, Role, Unit, UnitKind
    from models.outbox import DeliveryAttempt, OutboxMessage, OutboxState
    from models.proposals import TaskProposal
    from models.recurrence import Series
    from models.report_store import DataVersion, StoredReport
    from models.silence_tallies import silence_tallies
    from models.tallies import task_tallies
    from models.tasks import Channel, Task, TaskEvent, TaskStatus
    from models.throttles import ThrottleState
    from models.urgings import Urging
