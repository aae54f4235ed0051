"""Tenant templates as reviewed data files: units with numbered responsibilities and a two-level catalogue.

A template is a TOML file beside this module; `liangzhou.toml` documents the format in its header.
`parse` reads and checks a whole file and names every problem at once; `apply` writes a checked
template inside the tenant-creating transaction.
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert

from app.blueprints.catalogue.models import Category, CategoryAssist, CategoryResponsibility, Route, Severity
from app.blueprints.units.models import DutyClass, Responsibility, Unit, UnitKind
from app.extensions import db

TOP_KEYS = {"name", "source", "time_limit_profiles", "unit", "group"}
UNIT_KEYS = {"name", "short_name", "kind", "duty_class", "source", "responsibility"}
GROUP_KEYS = {"code", "name", "description", "category"}
CATEGORY_KEYS = {"code", "name", "description", "lead", "assists", "route", "severity", "needs_site_visit",
                 "keywords", "responsibilities", "time_limits"}
TIME_LIMIT_KEYS = {"ack_minutes", "arrive_minutes", "resolve_hours", "resolve_working_days"}
AREAS = {"urban", "suburban", "rural"}
# Column widths of the models, so a long value fails here rather than as a database error.
MAX_LENGTH = {"unit name": 100, "short_name": 30, "code": 20, "category name": 100, "keyword": 50}


class TemplateError(ValueError):
    """A template data file that cannot be applied; `problems` lists every reason."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"template {source}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class UnitSpec:
    name: str
    short_name: str
    kind: str
    duty_class: str
    responsibilities: dict[int, str]


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    description: str
    lead: str
    assists: tuple[str, ...]
    route: str
    severity: str
    needs_site_visit: bool
    keywords: tuple[str, ...]
    responsibilities: tuple[tuple[str, int], ...]  # (unit short name, responsibility number)
    time_limits: dict


@dataclass(frozen=True)
class GroupSpec:
    code: str
    name: str
    description: str
    categories: tuple[CategorySpec, ...]


@dataclass(frozen=True)
class Template:
    units: tuple[UnitSpec, ...]
    groups: tuple[GroupSpec, ...]


def load(path: Path) -> Template:
    return parse(path.read_text(encoding="utf-8"), source=path.name)


def apply_file(path: Path, tenant) -> None:
    """The TEMPLATES entry point: check the whole file first, then write it for `tenant`."""
    apply(load(path), tenant)


def parse(text: str, *, source: str = "<template>") -> Template:
    problems: list[str] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(source, [f"not valid TOML: {error}"]) from None
    _unknown_keys(data, TOP_KEYS, "top level", problems)
    units = _units(data.get("unit", []), problems)
    profiles = data.get("time_limit_profiles", {})
    for name, limits in profiles.items():
        _check_time_limits(limits, f"time_limit_profiles.{name}", problems)
    groups = _groups(data.get("group", []), profiles, problems)
    _check_catalogue(units, groups, problems)
    if problems:
        raise TemplateError(source, problems)
    return Template(units=tuple(units), groups=tuple(groups))


def _unknown_keys(table: dict, allowed: set[str], where: str, problems: list[str]) -> None:
    for key in sorted(set(table) - allowed):
        problems.append(f"{where}: unknown key {key!r}")


def _text(table: dict, key: str, where: str, problems: list[str], *, limit: str | None = None,
          required: bool = True) -> str:
    value = table.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{where}: {key} must be a non-empty string")
        return ""
    if limit and len(value) > MAX_LENGTH[limit]:
        problems.append(f"{where}: {key} {value!r} is longer than {MAX_LENGTH[limit]} characters")
    return value


def _one_of(table: dict, key: str, allowed: type, where: str, problems: list[str]) -> str:
    value = table.get(key)
    if value not in {member.value for member in allowed}:
        problems.append(f"{where}: {key} {value!r} is not one of {sorted(m.value for m in allowed)}")
    return value


def _units(raw: list[dict], problems: list[str]) -> list[UnitSpec]:
    units, names, short_names = [], set(), set()
    for position, table in enumerate(raw, start=1):
        where = f"unit #{position} ({table.get('short_name', '?')})"
        _unknown_keys(table, UNIT_KEYS, where, problems)
        name = _text(table, "name", where, problems, limit="unit name")
        short_name = _text(table, "short_name", where, problems, limit="short_name")
        for value, seen, label in ((name, names, "name"), (short_name, short_names, "short_name")):
            if value in seen:
                problems.append(f"{where}: duplicate unit {label} {value!r}")
            seen.add(value)
        responsibilities: dict[int, str] = {}
        for item in table.get("responsibility", []):
            _unknown_keys(item, {"number", "text"}, f"{where} responsibility", problems)
            number = item.get("number")
            if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                problems.append(f"{where}: responsibility number {number!r} must be a positive integer")
            elif number in responsibilities:
                problems.append(f"{where}: duplicate responsibility number {number}")
            else:
                responsibilities[number] = _text(item, "text", f"{where} responsibility {number}", problems)
        units.append(UnitSpec(name=name, short_name=short_name,
                              kind=_one_of(table, "kind", UnitKind, where, problems),
                              duty_class=_one_of(table, "duty_class", DutyClass, where, problems),
                              responsibilities=responsibilities))
    return units


def _check_time_limits(limits, where: str, problems: list[str]) -> None:
    if not isinstance(limits, dict):
        problems.append(f"{where}: time limits must be a table")
        return
    _unknown_keys(limits, TIME_LIMIT_KEYS, where, problems)
    for key, value in limits.items():
        values = value.values() if key == "arrive_minutes" and isinstance(value, dict) else [value]
        if key == "arrive_minutes" and isinstance(value, dict):
            _unknown_keys(value, AREAS, f"{where}.arrive_minutes", problems)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
            problems.append(f"{where}: {key} must be positive whole numbers")
    if "resolve_hours" in limits and "resolve_working_days" in limits:
        problems.append(f"{where}: give resolve_hours or resolve_working_days, not both")


def _groups(raw: list[dict], profiles: dict, problems: list[str]) -> list[GroupSpec]:
    groups = []
    for position, table in enumerate(raw, start=1):
        where = f"group {table.get('code', f'#{position}')}"
        _unknown_keys(table, GROUP_KEYS, where, problems)
        categories = tuple(_category(item, where, profiles, problems) for item in table.get("category", []))
        if not categories:
            problems.append(f"{where}: has no categories")
        groups.append(GroupSpec(code=_text(table, "code", where, problems, limit="code"),
                                name=_text(table, "name", where, problems, limit="category name"),
                                description=_text(table, "description", where, problems, required=False),
                                categories=categories))
    return groups


def _category(table: dict, group: str, profiles: dict, problems: list[str]) -> CategorySpec:
    where = f"{group} category {table.get('code', '?')}"
    _unknown_keys(table, CATEGORY_KEYS, where, problems)
    keywords = table.get("keywords", [])
    for keyword in keywords:
        if not isinstance(keyword, str) or not keyword.strip() or keyword != keyword.strip():
            problems.append(f"{where}: keyword {keyword!r} must be a trimmed, non-empty string")
        elif len(keyword) > MAX_LENGTH["keyword"]:
            problems.append(f"{where}: keyword {keyword!r} is longer than {MAX_LENGTH['keyword']} characters")
    if len(set(keywords)) != len(keywords):
        problems.append(f"{where}: repeats a keyword")
    references = []
    for reference in table.get("responsibilities", []):
        short_name, _, number = str(reference).rpartition(".")
        if not short_name or not number.isdigit():
            problems.append(f"{where}: responsibility reference {reference!r} is not '<unit short name>.<number>'")
        else:
            references.append((short_name, int(number)))
    if not references:
        problems.append(f"{where}: serves no responsibility")
    if len(set(references)) != len(references):
        problems.append(f"{where}: repeats a responsibility")
    assists = table.get("assists", [])
    if not isinstance(assists, list) or not all(isinstance(a, str) for a in assists):
        problems.append(f"{where}: assists must be a list of unit short names")
        assists = []
    time_limits = table.get("time_limits", {})
    if isinstance(time_limits, str):
        if time_limits not in profiles:
            problems.append(f"{where}: unknown time_limit_profiles entry {time_limits!r}")
        time_limits = profiles.get(time_limits, {})
    else:
        _check_time_limits(time_limits, f"{where}.time_limits", problems)
    needs_site_visit = table.get("needs_site_visit", True)
    if not isinstance(needs_site_visit, bool):
        problems.append(f"{where}: needs_site_visit must be true or false")
    return CategorySpec(
        code=_text(table, "code", where, problems, limit="code"),
        name=_text(table, "name", where, problems, limit="category name"),
        description=_text(table, "description", where, problems, required=False),
        lead=_text(table, "lead", where, problems), assists=tuple(assists),
        route=_one_of(table, "route", Route, where, problems),
        severity=_one_of(table, "severity", Severity, where, problems),
        needs_site_visit=needs_site_visit, keywords=tuple(keywords), responsibilities=tuple(references),
        time_limits=copy.deepcopy(time_limits))


def _check_catalogue(units: list[UnitSpec], groups: list[GroupSpec], problems: list[str]) -> None:
    """Cross-references: units exist and fit their role, codes and keywords are unique, duties covered."""
    by_short = {unit.short_name: unit for unit in units}
    police = {unit.short_name for unit in units if unit.kind == UnitKind.POLICE}
    codes: set[str] = set()
    keyword_owner: dict[str, str] = {}
    covered: set[tuple[str, int]] = set()
    group_names: set[str] = set()
    for group in groups:
        if group.name in group_names:
            problems.append(f"group {group.code}: duplicate group name {group.name!r}")
        group_names.add(group.name)
        names = set()
        for code in [group.code, *(c.code for c in group.categories)]:
            if code in codes:
                problems.append(f"duplicate category code {code!r}")
            codes.add(code)
        for category in group.categories:
            where = f"category {category.code} {category.name}"
            if category.name in names:
                problems.append(f"{where}: duplicate name in group {group.code}")
            names.add(category.name)
            for short_name in (category.lead, *category.assists):
                if short_name not in by_short:
                    problems.append(f"{where}: unknown unit {short_name!r}")
                elif by_short[short_name].kind == UnitKind.SUPERVISOR:
                    problems.append(f"{where}: supervisor unit {short_name!r} is never instructed")
            if category.lead in category.assists or len(set(category.assists)) != len(category.assists):
                problems.append(f"{where}: an assisting unit is repeated or is the lead")
            if category.route == Route.POLICE and (category.lead not in police or category.assists):
                problems.append(f"{where}: route police means the police unit alone")
            taking_part = {category.lead, *category.assists}
            if category.route in (Route.POLICE, Route.POLICE_FIRST):
                taking_part |= police
            for short_name, number in category.responsibilities:
                unit = by_short.get(short_name)
                if unit is None or number not in unit.responsibilities:
                    problems.append(f"{where}: unknown responsibility {short_name}.{number}")
                    continue
                if short_name not in taking_part and unit.kind != UnitKind.SUPERVISOR:
                    problems.append(f"{where}: serves {short_name}.{number} but {short_name} takes no part")
                covered.add((short_name, number))
            for keyword in category.keywords:
                if keyword in keyword_owner and keyword_owner[keyword] != category.code:
                    problems.append(f"keyword {keyword!r} is in both {keyword_owner[keyword]} and {category.code}")
                keyword_owner.setdefault(keyword, category.code)
    for unit in units:
        for number in sorted(unit.responsibilities):
            if (unit.short_name, number) not in covered:
                problems.append(f"responsibility {unit.short_name}.{number} is served by no category")


def apply(template: Template, tenant) -> None:
    """Write the template for `tenant` in the current (creating) transaction; the caller commits.

    Bulk INSERTs, batched by SQLAlchemy's insertmanyvalues: with the composite (tenant_id, id) keys
    the unit of work would insert row by row to keep RETURNING in order. These return each new id
    with the row's natural key instead, so the order of returned rows does not matter.
    """
    tid = tenant.id
    unit_ids = _insert(Unit, [Unit.short_name], [
        dict(tenant_id=tid, name=spec.name, short_name=spec.short_name, kind=spec.kind, duty_class=spec.duty_class,
             is_active=True, sort_order=position) for position, spec in enumerate(template.units, start=1)])
    duty_ids = _insert(Responsibility, [Responsibility.unit_id, Responsibility.number], [
        dict(tenant_id=tid, unit_id=unit_ids[spec.short_name], number=number, text=text)
        for spec in template.units for number, text in sorted(spec.responsibilities.items())])
    group_ids = _insert(Category, [Category.code], [
        _category_row(tid, position, code=group.code, name=group.name, description=group.description)
        for position, group in enumerate(template.groups, start=1)])
    category_ids = _insert(Category, [Category.code], [
        _category_row(tid, position, parent_id=group_ids[group.code], code=spec.code, name=spec.name,
                      description=spec.description, keywords=list(spec.keywords), lead_unit_id=unit_ids[spec.lead],
                      route=spec.route, severity=spec.severity, needs_site_visit=spec.needs_site_visit,
                      time_limits=spec.time_limits)
        for group in template.groups for position, spec in enumerate(group.categories, start=1)])
    specs = [spec for group in template.groups for spec in group.categories]
    _insert(CategoryAssist, [], [dict(tenant_id=tid, category_id=category_ids[spec.code], unit_id=unit_ids[short])
                                 for spec in specs for short in spec.assists])
    _insert(CategoryResponsibility, [], [
        dict(tenant_id=tid, category_id=category_ids[spec.code], responsibility_id=duty_ids[unit_ids[short], number])
        for spec in specs for short, number in spec.responsibilities])


def _category_row(tenant_id: int, sort_order: int, **values) -> dict:
    """Every column given, so all rows of one bulk INSERT share one statement."""
    return dict(tenant_id=tenant_id, parent_id=None, description="", keywords=[], lead_unit_id=None,
                route=Route.DIRECT.value, severity=Severity.GENERAL.value, needs_site_visit=True, time_limits={},
                sort_order=sort_order, is_active=True) | values


def _insert(model, key: list, rows: list[dict]) -> dict:
    """Insert `rows`; with a `key`, return their new ids by it (a tuple for two columns)."""
    if not rows:
        return {}
    if not key:
        db.session.execute(insert(model), rows)
        return {}
    returned = db.session.execute(insert(model).returning(model.id, *key), rows).all()
    return {(tuple(row[1:]) if len(key) > 1 else row[1]): row[0] for row in returned}
