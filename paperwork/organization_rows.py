"""Checking the rows of the units and officials files before anything is written."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from locales import Translator
from models.imports import OfficialRow, UnitRow
from models.organization import Role, Unit
from paperwork.cells import ROLES, UNIT_KINDS, duplicates, split_list
from paperwork.headers import MappedRows, RowError
from paperwork.tabular import header_key

# The `active` column (Đang công tác): empty means yes; a leaver is written no.
ACTIVE = {
    **dict.fromkeys(("yes", "y", "true", "1", "x", "co", "dang_cong_tac"), True),
    **dict.fromkeys(("no", "n", "false", "0", "khong", "nghi", "da_nghi"), False),
}

# A Matrix user id: @localpart:server, the server a host name or [IPv6], with a port maybe.
MATRIX_ID = re.compile(r"@[A-Za-z0-9._=/+-]+:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def unit_lookup(units: Iterable[Unit]) -> dict[str, Unit]:
    """Units by code and by exact name: the offices write either `SXD` or `Sở Xây dựng`."""
    lookup: dict[str, Unit] = {}
    for unit in units:
        lookup.setdefault(unit.name.casefold(), unit)
    for unit in units:
        lookup[unit.code.casefold()] = unit
    return lookup


def split_list_semicolons(value: str) -> list[str]:
    """Aliases are `;`-separated: a unit's other name may hold a comma."""
    return [part.strip() for part in value.split(";") if part.strip()]


def check_units(
    rows: MappedRows, stored: Sequence[Unit], t: Translator
) -> tuple[list[UnitRow], list[RowError]]:
    """The units to write, or the reasons the file is refused."""
    existing = {u.code.casefold(): u for u in stored}
    file_codes = {r["code"].casefold(): r["code"] for _, r in rows.rows if r.get("code")}
    errors = duplicates(
        ((n, r.get("code", "")) for n, r in rows.rows),
        lambda code, first: t._(
            "unit code '{code}' appears again (first on row {first})", code=code, first=first
        ),
    )
    code_of_id = {u.id: code for code, u in existing.items()}
    parents: dict[str, str | None] = {
        code: code_of_id.get(u.parent_id) if u.parent_id else None for code, u in existing.items()
    }
    parsed: list[tuple[int, UnitRow]] = []
    for number, r in rows.rows:
        problems = []
        if not r.get("code"):
            problems.append(t._("the unit code is empty"))
        if not r.get("name"):
            problems.append(t._("the unit name is empty"))
        kind = UNIT_KINDS.get(header_key(r.get("kind", "") or "other"))
        if kind is None:
            problems.append(
                t._(
                    "unknown unit kind '{kind}' (use: department, district, commune, office, other)",
                    kind=r["kind"],
                )
            )
        parent = r.get("parent_code", "")
        if parent and parent.casefold() not in existing and parent.casefold() not in file_codes:
            problems.append(t._("unknown parent unit '{code}'", code=parent))
        if parent and r.get("code") and parent.casefold() == r["code"].casefold():
            problems.append(t._("a unit cannot be its own parent"))
        if problems:
            errors.append(RowError(number, "; ".join(problems)))
        elif kind is not None:
            parents[r["code"].casefold()] = parent.casefold() or None
            names = "; ".join(split_list_semicolons(r.get("aliases", "")))
            parsed.append((number, UnitRow(r["code"], r["name"], kind, parent, names)))
    for number, row in parsed:
        seen: set[str] = set()
        code: str | None = row.code.casefold()
        while code is not None and code not in seen:
            seen.add(code)
            code = parents.get(code)
        if code is not None:
            errors.append(
                RowError(number, t._("the parent units of '{code}' form a loop", code=row.code))
            )
    return [row for _, row in parsed], errors


def check_officials(
    rows: MappedRows, stored_units: Sequence[Unit], t: Translator
) -> tuple[list[OfficialRow], list[RowError]]:
    """The officials to write, or the reasons the file is refused."""
    units = unit_lookup(stored_units)
    errors = duplicates(
        ((n, r.get("code", "")) for n, r in rows.rows),
        lambda code, first: t._(
            "official code '{code}' appears again (first on row {first})", code=code, first=first
        ),
    )
    errors += duplicates(
        ((n, r.get("matrix_id", "")) for n, r in rows.rows),
        lambda account, first: t._(
            "Matrix account '{account}' appears again (first on row {first})",
            account=account,
            first=first,
        ),
    )
    parsed: list[OfficialRow] = []
    for number, r in rows.rows:
        problems = []
        if not r.get("code"):
            problems.append(t._("the official code is empty"))
        if not r.get("full_name"):
            problems.append(t._("the full name is empty"))
        unit = units.get(r.get("unit_code", "").casefold())
        if not r.get("unit_code"):
            problems.append(t._("the unit is empty"))
        elif unit is None:
            problems.append(t._("unknown unit '{code}'", code=r["unit_code"]))
        roles: set[Role] = set()
        for word in split_list(r.get("roles", "")):
            role = ROLES.get(header_key(word))
            if role is None:
                problems.append(
                    t._(
                        "unknown role '{role}' (use: specialist, leader, task_force, city_leader, admin)",
                        role=word,
                    )
                )
            else:
                roles.add(role)
        language = (r.get("language") or "vi").lower()
        if language not in ("vi", "en"):
            problems.append(t._("unknown language '{language}' (use: vi, en)", language=language))
        active = ACTIVE.get(header_key(r.get("active") or "yes"))
        if active is None:
            problems.append(
                t._("'{value}' is not yes or no (active: yes, no)", value=r.get("active", ""))
            )
        email = r.get("email", "")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            problems.append(t._("'{email}' is not an e-mail address", email=email))
        matrix_id = r.get("matrix_id", "")
        if matrix_id and (len(matrix_id) > 255 or not MATRIX_ID.fullmatch(matrix_id)):
            problems.append(
                t._(
                    "'{account}' is not a Matrix account (write it as @name:server, "
                    "e.g. @ha.bm:thanhpho.gov.vn)",
                    account=matrix_id,
                )
            )
        if problems:
            errors.append(RowError(number, "; ".join(problems)))
            continue
        assert unit is not None
        parsed.append(
            OfficialRow(
                code=r["code"],
                full_name=r["full_name"],
                position=r.get("position", ""),
                unit_id=unit.id,
                phone=r.get("phone", ""),
                email=email,
                language=language,
                roles=frozenset(roles or {Role.SPECIALIST}),
                active=bool(active),
                matrix_id=matrix_id,
            )
        )
    return parsed, errors
