"""Units (departments, districts, communes, the office) and the officials who work in them."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from models.base import Base, enum_column


class UnitKind(StrEnum):
    DEPARTMENT = "department"
    DISTRICT = "district"
    COMMUNE = "commune"
    OFFICE = "office"
    OTHER = "other"


class Role(StrEnum):
    SPECIALIST = "specialist"
    LEADER = "leader"
    TASK_FORCE = "task_force"
    CITY_LEADER = "city_leader"
    ADMIN = "admin"


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Other names the unit goes by, `;`-separated (`Sở KH&ĐT;Sở KHĐT`): notices use them.
    aliases: Mapped[str] = mapped_column(String(1000), default="", server_default="")

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class OfficialRole(Base):
    """One role of one official; an official may hold several."""

    __tablename__ = "official_roles"

    official_id: Mapped[int] = mapped_column(
        ForeignKey("officials.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True, index=True)


class Official(Base):
    __tablename__ = "officials"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str] = mapped_column(String(255), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    language: Mapped[str] = mapped_column(String(8), default="vi")
    # Where notices go when both Telegram and Zalo are linked: telegram, zalo or all.
    notify_channel: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    # Their Matrix account as officials.csv gives it (`@ha.bm:thanhpho.gov.vn`): the first
    # direct chat they open with the bot links it without a code.
    matrix_id: Mapped[str | None] = mapped_column(String(255), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    unit: Mapped[Unit] = relationship(lazy="raise")
    role_links: Mapped[list[OfficialRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(link.role for link in self.role_links)

    def set_roles(self, roles: frozenset[Role]) -> None:
        keep = [link for link in self.role_links if link.role in roles]
        have = {link.role for link in keep}
        self.role_links = keep + [OfficialRole(role=r) for r in sorted(roles - have)]

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def __repr__(self) -> str:
        return f"<Official {self.code}>"


async def official_by_code(session: AsyncSession, code: str) -> Official | None:
    return await session.scalar(select(Official).where(Official.code == code))


async def officials_by_unit(
    session: AsyncSession, unit_id: int | None = None, *, active_only: bool = False
) -> list[Official]:
    """Officials with their unit, unit by unit (of one unit, or of the city): the sandbox's
    list of people, and the sheets of link codes a unit's office hands out."""
    query = select(Official).options(selectinload(Official.unit))
    if unit_id is not None:
        query = query.where(Official.unit_id == unit_id)
    if active_only:
        query = query.where(Official.active.is_(True))
    rows = await session.scalars(query.order_by(Official.unit_id, Official.id))
    return list(rows.all())


async def unit_names(session: AsyncSession) -> dict[int, str]:
    """Every unit's name by its id."""
    return dict((await session.execute(select(Unit.id, Unit.name))).tuples().all())
