"""The declarative base and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapper
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@event.listens_for(Mapper, "before_configured")
def _every_model_first() -> None:
    """A relationship may name a model by string that nobody has imported yet (the package
    loads its modules lazily): load them all before SQLAlchemy resolves the names."""
    import models

    models.load_all()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC, so SQLite and PostgreSQL agree on every moment."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """A portable VARCHAR holding the enum's values (not its member names)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
    )
