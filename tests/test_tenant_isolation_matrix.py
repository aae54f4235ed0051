"""The tenant isolation matrix (design.md section 4, third layer of defence).

Every route under /api/v1/t/<tenant_code> is read from the app's URL map, with every
method, so a route added later is probed automatically, and the tests fail until its
allowed roles are written into EXPECTED and its path parameters into ID_RECIPES.

The cast, rebuilt for each test:
- tenant A: 620602 凉州区 (province 620000), one user per tenant role;
- tenant B: 110105 朝阳区 (province 110000), one user per tenant role;
- in each tenant a "target" user, holding no caller's login, that id parameters point at;
- a provincial supervisor of each province, and a platform admin.
"""
from __future__ import annotations

import io
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Callable

import pytest
from openpyxl import load_workbook

from app.common.roles import TENANT_ROLES
from tests.factories import (TenantRef, UserRef, assert_error, client_from, login, make_category,
                             make_notification, make_roster_rows, make_unit)
from tests.test_incident_support import make_incident
from tests.test_instruction_support import make_instruction
from tests.media_support import make_media
from tests.reminders_support import make_failed_delivery

TENANT_PREFIX = "/api/v1/t/<tenant_code>"
PLATFORM_PREFIX = "/api/v1/tenants"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}

SUPERVISOR = "provincial_supervisor"
PLATFORM_ADMIN = "platform_admin"
EVERY_TENANT_ROLE = frozenset(role.value for role in TENANT_ROLES)
ADMIN_ONLY = frozenset({"tenant_admin"})
DESK = frozenset({"dispatcher"})
DESK_OFFICE = frozenset({"dispatcher", "tenant_admin"})
UNIT_ACTORS = frozenset({"unit_liaison", "unit_leader", "responder"})
DESK_READERS = frozenset({"dispatcher", "tenant_admin", "leader", SUPERVISOR})
# The office for every unit; a unit's liaison and leader for their own unit only.
ROSTER_MANAGERS = frozenset({"tenant_admin", "unit_liaison", "unit_leader"})

# Who may call what (design.md section 8 and the views' @requires). A route missing
# here fails test_expected_matrix_lists_exactly_the_tenant_routes: add it with its roles.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/t/<tenant_code>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("PATCH", "/api/v1/t/<tenant_code>"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/users"): ADMIN_ONLY,
    ("POST", "/api/v1/t/<tenant_code>/users"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/users/<int:user_id>"): ADMIN_ONLY,
    ("PATCH", "/api/v1/t/<tenant_code>/users/<int:user_id>"): ADMIN_ONLY,
    ("POST", "/api/v1/t/<tenant_code>/users/<int:user_id>/password"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/audit-events"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/units"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/units"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>"): ADMIN_ONLY,
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>/contacts"): frozenset({"tenant_admin", "unit_liaison"}),
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/contact-changes"): frozenset(
        {"tenant_admin", "unit_liaison", "unit_leader"}),
    ("GET", "/api/v1/t/<tenant_code>/categories"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/categories"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/categories/<int:category_id>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("PATCH", "/api/v1/t/<tenant_code>/categories/<int:category_id>"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/inbox"): EVERY_TENANT_ROLE,
    ("POST", "/api/v1/t/<tenant_code>/inbox/<int:notification_id>/read"): EVERY_TENANT_ROLE,
    ("POST", "/api/v1/t/<tenant_code>/inbox/read-all"): EVERY_TENANT_ROLE,
    ("GET", "/api/v1/t/<tenant_code>/time-limits"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("PATCH", "/api/v1/t/<tenant_code>/time-limits/defaults/<int:time_limit_id>"): ADMIN_ONLY,
    ("PATCH", "/api/v1/t/<tenant_code>/time-limits/escalation-steps/<int:escalation_step_id>"): ADMIN_ONLY,
    # A computation, not a change, but a POST: the provincial supervisor gets the gate's read_only.
    ("POST", "/api/v1/t/<tenant_code>/time-limits/preview"): EVERY_TENANT_ROLE,
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns/<int:pattern_id>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns"): ROSTER_MANAGERS,
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns/<int:pattern_id>"): ROSTER_MANAGERS,
    ("DELETE", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns/<int:pattern_id>"): ROSTER_MANAGERS,
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides/<int:override_id>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides"): ROSTER_MANAGERS,
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides/<int:override_id>"): ROSTER_MANAGERS,
    ("DELETE", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides/<int:override_id>"): ROSTER_MANAGERS,
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/shifts"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/on-duty"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/roster/gaps"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/routing/suggest"): frozenset({"dispatcher", "tenant_admin", "leader"}),
    ("GET", "/api/v1/t/<tenant_code>/incidents"): DESK_READERS,
    ("POST", "/api/v1/t/<tenant_code>/incidents"): DESK,
    # Unit users read an incident their unit was instructed on (not_your_incident otherwise).
    ("GET", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("PATCH", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>"): DESK,
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/merge-call"): DESK,
    ("GET", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/instructions"): EVERY_TENANT_ROLE | {SUPERVISOR},
    # Unit users only while their unit holds an instruction on it (the sample instruction is theirs).
    ("GET", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/timeline"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/urge"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/callback"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/close"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/cancel"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/merge"): DESK_OFFICE,
    ("GET", "/api/v1/t/<tenant_code>/board"): DESK_READERS,
    # Media: a JSON probe of the upload gets 415 multipart_required, which still proves the gate passed.
    ("POST", "/api/v1/t/<tenant_code>/media"): DESK_OFFICE | UNIT_ACTORS,
    ("GET", "/api/v1/t/<tenant_code>/media/usage"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/media/<uuid:media_id>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/media/<uuid:media_id>/display"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/media/<uuid:media_id>/thumbnail"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/media/<uuid:media_id>/original"): DESK_OFFICE | UNIT_ACTORS,
    ("GET", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/media"): EVERY_TENANT_ROLE | {SUPERVISOR},
    # Reminders and the outbox (issue 6).
    ("GET", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/timers"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/inbox/unread-count"): EVERY_TENANT_ROLE,
    ("GET", "/api/v1/t/<tenant_code>/notifications/deliveries"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/notifications/deliveries/<int:notification_id>/retry"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/notifications/endpoints"): ADMIN_ONLY,
    ("PUT", "/api/v1/t/<tenant_code>/notifications/endpoints"): ADMIN_ONLY,
    ("GET", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/extensions"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/review"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/request-extension"): UNIT_ACTORS,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/approve-extension"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/refuse-extension"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/instructions"): DESK,
    ("GET", "/api/v1/t/<tenant_code>/units/<int:unit_id>/instructions"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/my/instructions"): UNIT_ACTORS,
    ("GET", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("GET", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/feedback"): EVERY_TENANT_ROLE | {SUPERVISOR},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/acknowledge"): UNIT_ACTORS,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/return"): UNIT_ACTORS,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/set-out"): UNIT_ACTORS,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/arrive"): UNIT_ACTORS,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/progress"): UNIT_ACTORS,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/resolve"): UNIT_ACTORS,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/cancel"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/reopen"): DESK_OFFICE,
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/reissue"): DESK_OFFICE,
    ("GET", "/api/v1/t/<tenant_code>/catalogue/export.xlsx"): frozenset(
        {"tenant_admin", "dispatcher", "leader", SUPERVISOR}),
    ("POST", "/api/v1/t/<tenant_code>/catalogue/import"): ADMIN_ONLY,
}

# Routes whose rows belong to one caller (a user's own messages): an allowed role that is not
# the owner gets that route's own 404 (never `tenant_not_found`), which still proves the gate passed.
CALLER_OWNED = {
    ("POST", "/api/v1/t/<tenant_code>/inbox/<int:notification_id>/read"),
}
# Lists of the caller's own rows, which may rightly be empty for a caller of another tenant.
PERSONAL_LISTS = {
    ("GET", "/api/v1/t/<tenant_code>/inbox"),
    ("GET", "/api/v1/t/<tenant_code>/inbox/unread-count"),
    ("GET", "/api/v1/t/<tenant_code>/my/instructions"),
}

# The platform's own routes (not tenant-scoped): tenant roles never pass.
PLATFORM_EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/tenants"): frozenset({PLATFORM_ADMIN, SUPERVISOR}),
    ("POST", "/api/v1/tenants"): frozenset({PLATFORM_ADMIN}),
    ("PATCH", "/api/v1/tenants/<code>"): frozenset({PLATFORM_ADMIN}),
}

# How to fill each path parameter (other than <tenant_code>) with a real row of one
# tenant. A new parameter fails test_every_path_parameter_has_an_id_recipe until added.
ID_RECIPES: dict[str, Callable[["Side"], object]] = {
    # The target user: changing it (a password reset) never logs a caller out.
    "user_id": lambda side: side.target.id,
    # The unit of the side's unit users, so a liaison acting on "their own unit" passes.
    "unit_id": lambda side: side.users["unit_liaison"].unit_id,
    "category_id": lambda side: side.category_id,
    "notification_id": lambda side: side.notification_id,
    "time_limit_id": lambda side: side.first_id["time_limit_defaults"],
    "escalation_step_id": lambda side: side.first_id["escalation_steps"],
    "pattern_id": lambda side: side.roster_ids[0],
    "override_id": lambda side: side.roster_ids[1],
    "incident_id": lambda side: side.incident_id,
    "instruction_id": lambda side: side.instruction_ids[1],
    "media_id": lambda side: side.media_id,
}

# Routes that need a particular row for a parameter: the timeline admits unit users only on an
# incident their unit holds an instruction on, so it takes the sample instruction's incident.
ROUTE_ID_RECIPES: dict[str, dict[str, Callable[["Side"], object]]] = {
    "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/timeline": {
        "incident_id": lambda side: side.instruction_ids[0]},
    "/api/v1/t/<tenant_code>/incidents/<int:incident_id>": {
        "incident_id": lambda side: side.instruction_ids[0]},
    # Only a failed delivery is retried: the side's failed SMS.
    "/api/v1/t/<tenant_code>/notifications/deliveries/<int:notification_id>/retry": {
        "notification_id": lambda side: side.failed_delivery_id},
}

# Tables whose first row of a tenant serves as an id recipe (rows every tenant is provisioned with).
FIRST_ROW_TABLES = ("time_limit_defaults", "escalation_steps")
PLATFORM_PARAM_RECIPES: dict[str, Callable[["World"], object]] = {
    "code": lambda world: world.a.tenant.code,
}

# Bodies valid enough to pass validation, so a foreign id reaches the row lookup, and
# harmless when allowed. Unlisted routes get `{}`: a 422 for an allowed role still
# proves the call passed the gate.
PROBE_BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/instructions"): {"instructions": [{"unit_id": 987654321}]},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/acknowledge"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/set-out"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/arrive"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/cancel"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/reopen"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/reissue"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/return"): {"reason": "probe", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/progress"): {"text": "probe", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/resolve"): {"result_code": "10", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/incidents"): {"source": "phone_110", "description": "探测"},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/merge-call"): {"source": "sms"},
    # Stale versions: an allowed caller gets 412 (or 409/404) and nothing changes.
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/urge"): {
        "instruction_id": 987654321, "note": "催办", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/callback"): {
        "satisfaction": "satisfied", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/close"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/cancel"): {"reason": "误报", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/merge"): {
        "into_incident_id": 987654321, "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/review"): {
        "outcome": "accepted", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/request-extension"): {
        "reason": "probe", "resolve_by": "2026-12-30T10:00:00+08:00", "version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/approve-extension"): {"version": 999999},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/refuse-extension"): {
        "note": "probe", "version": 999999},
    # A unit id that names nothing: an allowed caller gets a 4xx after the gate, and nothing is written.
    ("PUT", "/api/v1/t/<tenant_code>/notifications/endpoints"): {
        "channel": "webhook", "unit_id": 987654321, "target": "https://unit.example.gov.cn/hook",
        "secret": "probe-secret-0000000"},
    ("POST", "/api/v1/t/<tenant_code>/routing/suggest"): {"text": "停电了", "limit": 5},
    ("POST", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns"): {"name": "probe", "starts_on": "2026-03-01", "start_time": "08:00",
                                "shift_hours": 24, "user_ids": [987654321]},
    ("POST", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides"): {"kind": "extra", "user_id": 987654321, "starts_at": "2026-03-01T08:00:00+08:00",
                                 "ends_at": "2026-03-01T20:00:00+08:00"},
    ("POST", "/api/v1/t/<tenant_code>/users/<int:user_id>/password"): {"new_password": "Probe-pass-1"},
}

_PARAM = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
_address = itertools.count(1)


# ---------------------------------------------------------------- the cast

@dataclass
class Side:
    """One tenant with its callers: role -> Authorization header (tenant roles and its supervisor)."""

    tenant: TenantRef
    users: dict[str, UserRef]
    target: UserRef
    headers: dict[str, dict] = field(default_factory=dict)
    category_id: int | None = None
    notification_id: int | None = None
    extra_markers: set[str] = field(default_factory=set)
    first_id: dict[str, int] = field(default_factory=dict)
    roster_ids: tuple[int, int] = (0, 0)
    incident_id: int | None = None
    instruction_ids: tuple[int, int] = (0, 0)  # (incident, acknowledged instruction naming the responder)
    media_id: str | None = None                # a photo of that instruction
    failed_delivery_id: int | None = None      # an SMS that failed, for the office's retry

    def markers(self) -> set[str]:
        """Strings that only this tenant's records carry."""
        return {self.tenant.code, self.tenant.name, self.target.username,
                *(user.username for user in self.users.values()), *self.extra_markers}


@dataclass
class World:
    a: Side
    b: Side
    platform_admin: dict


def _bearer(app, user: UserRef) -> dict:
    # Each login from its own address: the login rate limit is per address.
    n = next(_address)
    client = client_from(app, f"198.51.{n // 256 % 256}.{n % 256}")
    return {"Authorization": f"Bearer {login(client, user)['access_token']}"}


def _side(app, factory, sql, code: str, name: str, province: str, prefix: str) -> Side:
    tenant = factory.tenant(code, name, template="liangzhou")
    users = {role: factory.user(tenant, role, username=f"{prefix}.{role.replace('_', '-')}")
             for role in sorted(EVERY_TENANT_ROLE)}
    target = factory.user(tenant, "dispatcher", username=f"{prefix}.target")
    supervisor = factory.user(None, SUPERVISOR, username=f"{prefix}.supervisor", province_code=province)
    side = Side(tenant, users, target)
    # Rows named after the side, so that lists can show whose records they are.
    side.category_id = make_category(app, tenant, code=f"{prefix[:9]}-GRP", name=f"{prefix}分组")
    make_unit(app, tenant, name=f"{prefix}单位", short_name=f"{prefix}单位")
    side.incident_id = make_incident(app, tenant, users["dispatcher"], description=f"{prefix}警情")
    side.instruction_ids = make_instruction(app, tenant, desk_user_id=users["dispatcher"].id,
                                            liaison_user_id=users["unit_liaison"].id,
                                            responder_user_id=users["responder"].id)
    side.extra_markers = {f"{prefix}分组", f"{prefix}单位", f"{prefix}警情"}
    side.roster_ids = make_roster_rows(app, tenant, users["responder"])
    side.media_id = make_media(app, tenant, uploader_user_id=users["responder"].id,
                               instruction_id=side.instruction_ids[1])
    side.failed_delivery_id = make_failed_delivery(app, tenant)
    side.extra_markers.add(f"http://sms-gateway.test/{tenant.code}")  # its SMS gateway endpoint
    side.first_id = {table: sql(f"SELECT min(id) FROM {table} WHERE tenant_id = :t", t=tenant.id)[0][0]
                     for table in FIRST_ROW_TABLES}
    side.notification_id = make_notification(app, tenant, users["tenant_admin"])
    side.headers = {role: _bearer(app, user) for role, user in users.items()}
    side.headers[SUPERVISOR] = _bearer(app, supervisor)
    return side


@pytest.fixture
def world(app, factory, sql) -> World:
    a = _side(app, factory, sql, "620602", "凉州区", "620000", "a620602")
    b = _side(app, factory, sql, "110105", "朝阳区", "110000", "b110105")
    admin = factory.user(None, PLATFORM_ADMIN, username="platform.admin")
    return World(a, b, _bearer(app, admin))


# ---------------------------------------------------------------- routes and calls

def routes(app, prefix: str) -> list[tuple[str, str]]:
    """(METHOD, rule) for every rule at or under `prefix`, from the live URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule == prefix or rule.rule.startswith(prefix + "/"):
            found += [(method, rule.rule) for method in sorted(rule.methods - SKIPPED_METHODS)]
    return sorted(found)


def allowed_roles(method: str, rule: str, matrix: dict = EXPECTED) -> frozenset[str]:
    if (method, rule) not in matrix:
        pytest.fail(f"{method} {rule} is not in the expected matrix: add it with the roles allowed to call it")
    return matrix[(method, rule)]


def has_id_params(rule: str) -> bool:
    return any(name != "tenant_code" for name in _PARAM.findall(rule))


def tenant_url(rule: str, *, path_of: Side, ids_of: Side) -> str:
    """The rule with <tenant_code> of `path_of` and every other parameter from `ids_of`."""
    def fill(match):
        name = match.group(1)
        if name == "tenant_code":
            return path_of.tenant.code
        recipes = {**ID_RECIPES, **ROUTE_ID_RECIPES.get(rule, {})}
        if name not in recipes:
            pytest.fail(f"{rule}: no ID_RECIPES entry for <{name}>")
        return str(recipes[name](ids_of))
    return _PARAM.sub(fill, rule)


def call(client, method: str, rule: str, url: str, headers: dict):
    if method == "GET":
        return client.get(url, headers=headers)
    return client.open(url, method=method, headers=headers, json=PROBE_BODIES.get((method, rule), {}))


def check_error(problems: list[str], label: str, response, status: int, error: str | None = None) -> None:
    """Record (rather than stop at) a response that is not the uniform error body expected."""
    try:
        assert_error(response, status, error)
    except (AssertionError, ValueError):  # ValueError: the body is not JSON at all
        problems.append(f"{label}: expected {status} {error or ''}, got {response.status_code} "
                        f"{response.get_data(as_text=True)[:300]}")


def check_passed_gate(problems: list[str], label: str, response, *, caller_owned: bool = False) -> None:
    if caller_owned and response.status_code == 404 and \
            (response.get_json(silent=True) or {}).get("error") not in (None, "tenant_not_found", "not_found"):
        return  # the route's own "not yours" 404: the gate was passed
    if response.status_code in (401, 403, 404) or response.status_code >= 500:
        problems.append(f"{label}: allowed, but got {response.status_code} "
                        f"{response.get_data(as_text=True)[:300]}")


def string_leaves(value) -> set[str]:
    """Every string value anywhere in a JSON document (exact values, not substrings)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(string_leaves(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(string_leaves(v) for v in value))
    return set()


def all_pages(client, url: str, headers: dict) -> list:
    """Every page of a GET (following X-Pagination when the route pages), as parsed bodies."""
    bodies, page = [], 1
    while True:
        response = client.get(url, headers=headers, query_string={"page": page} if page > 1 else None)
        assert response.status_code == 200, (url, response.get_json())
        if response.mimetype.endswith("spreadsheetml.sheet"):
            # A workbook: its text cells (the 说明 sheet names the district) are the "records".
            book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
            bodies.append([value for sheet in book for row in sheet.iter_rows(values_only=True)
                           for value in row if isinstance(value, str)])
            return bodies
        bodies.append(response.get_json())
        pagination = json.loads(response.headers.get("X-Pagination", "{}"))
        if "next_page" not in pagination:
            return bodies
        page = pagination["next_page"]


def tenant_snapshot(sql, tenant_id: int):
    """Everything of a tenant a foreign request might have changed."""
    return (sql("SELECT * FROM tenants WHERE id = :t", t=tenant_id),
            sql("SELECT * FROM users WHERE tenant_id = :t ORDER BY id", t=tenant_id),
            sql("SELECT * FROM audit_events WHERE tenant_id = :t ORDER BY seq", t=tenant_id))


# ---------------------------------------------------------------- the matrix is complete

def test_expected_matrix_lists_exactly_the_tenant_routes(app):
    enumerated = set(routes(app, TENANT_PREFIX))
    assert enumerated, "no tenant routes found: did the prefix change?"
    assert set(EXPECTED) - enumerated == set(), "EXPECTED names routes the app no longer has"
    assert enumerated - set(EXPECTED) == set(), "new tenant routes: add each to EXPECTED with its roles"


def test_platform_matrix_lists_exactly_the_platform_routes(app):
    enumerated = set(routes(app, PLATFORM_PREFIX))
    assert enumerated == set(PLATFORM_EXPECTED), "add new /api/v1/tenants routes to PLATFORM_EXPECTED"


def test_every_path_parameter_has_an_id_recipe(app):
    unknown = {(rule, name) for _method, rule in routes(app, TENANT_PREFIX)
               for name in _PARAM.findall(rule) if name != "tenant_code" and name not in ID_RECIPES}
    assert not unknown, ("tenant routes have path parameters ID_RECIPES does not know; add, for each, "
                         f"how to find a row of a given tenant: {sorted(unknown)}")
    unknown = {(rule, name) for _method, rule in routes(app, PLATFORM_PREFIX)
               for name in _PARAM.findall(rule) if name not in PLATFORM_PARAM_RECIPES}
    assert not unknown, f"add these to PLATFORM_PARAM_RECIPES: {sorted(unknown)}"


def test_every_route_under_t_is_scoped_by_tenant_code(app):
    # The gate resolves and checks the tenant from the <tenant_code> view argument only:
    # a route under /api/v1/t/ naming it otherwise would skip the tenant check entirely.
    unscoped = [rule.rule for rule in app.url_map.iter_rules()
                if rule.rule.startswith("/api/v1/t/") and not rule.rule.startswith(TENANT_PREFIX)]
    assert not unscoped


# ---------------------------------------------------------------- foreign callers see nothing

def test_other_tenants_users_and_outsiders_get_404_on_a_tenants_paths(client, world):
    outsiders = {f"B {role}": headers for role, headers in world.b.headers.items()}
    outsiders[PLATFORM_ADMIN] = world.platform_admin
    problems: list[str] = []
    for method, rule in routes(client.application, TENANT_PREFIX):
        url = tenant_url(rule, path_of=world.a, ids_of=world.a)
        # A tenant one may not see answers exactly like a tenant that does not exist.
        absent = call(client, method, rule, url.replace(world.a.tenant.code, "999999", 1),
                      world.platform_admin).get_json()
        for caller, headers in outsiders.items():
            response = call(client, method, rule, url, headers)
            label = f"{caller} {method} {url}"
            check_error(problems, label, response, 404, "tenant_not_found")
            if response.status_code == 404 and response.get_json(silent=True) != absent:
                problems.append(f"{label}: 404 body differs from a nonexistent tenant's")
    assert not problems, "\n".join(problems)


def test_a_tenants_ids_are_not_found_through_another_tenants_paths(client, world, sql):
    before = tenant_snapshot(sql, world.a.tenant.id)
    problems: list[str] = []
    probed = 0
    for method, rule in routes(client.application, TENANT_PREFIX):
        if not has_id_params(rule):
            continue
        foreign = tenant_url(rule, path_of=world.b, ids_of=world.a)
        own = tenant_url(rule, path_of=world.b, ids_of=world.b)
        for role in sorted(allowed_roles(method, rule) & set(world.b.headers)):
            headers = world.b.headers[role]
            response = call(client, method, rule, foreign, headers)
            check_error(problems, f"B {role} {method} {foreign} (A's ids; a 422 means "
                                  "PROBE_BODIES needs a valid body)", response, 404)
            # Control: the same call with B's own ids passes, so the 404 is A's ids being foreign.
            check_passed_gate(problems, f"B {role} {method} {own} (B's ids)",
                              call(client, method, rule, own, headers),
                              caller_owned=(method, rule) in CALLER_OWNED)
            probed += 1
    assert probed, "no route with id parameters was probed"
    assert not problems, "\n".join(problems)
    assert tenant_snapshot(sql, world.a.tenant.id) == before, "a request through B's paths changed A's rows"


def test_lists_of_another_tenant_contain_none_of_a_tenants_records(client, world):
    a_markers, b_markers = world.a.markers(), world.b.markers()
    problems: list[str] = []
    for method, rule in routes(client.application, TENANT_PREFIX):
        if method != "GET" or has_id_params(rule):
            continue
        url = tenant_url(rule, path_of=world.b, ids_of=world.b)
        for role in sorted(allowed_roles(method, rule) & set(world.b.headers)):
            values = string_leaves(all_pages(client, url, world.b.headers[role]))
            if values & a_markers:
                problems.append(f"B {role} GET {url} shows A's records: {sorted(values & a_markers)}")
            if not values & b_markers and (method, rule) not in PERSONAL_LISTS:
                problems.append(f"B {role} GET {url} shows none of B's own records either")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the role matrix inside tenant A

def test_role_matrix_on_a_tenants_paths(client, world):
    problems: list[str] = []
    for method, rule in routes(client.application, TENANT_PREFIX):
        url = tenant_url(rule, path_of=world.a, ids_of=world.a)
        allowed = allowed_roles(method, rule)
        for role, headers in sorted(world.a.headers.items()):
            response = call(client, method, rule, url, headers)
            label = f"A {role} {method} {url}"
            if role in allowed:
                check_passed_gate(problems, label, response, caller_owned=(method, rule) in CALLER_OWNED)
            elif role == SUPERVISOR and method != "GET":
                check_error(problems, label, response, 403, "read_only")
            else:
                check_error(problems, label, response, 403, "forbidden")
    assert not problems, "\n".join(problems)


def test_provincial_supervisor_reads_only_own_province(client, world):
    # The supervisor of B's province is the "foreign-province supervisor" for A (404 above);
    # here the control: the same supervisor does read B, and A's supervisor reads A.
    for side in (world.a, world.b):
        response = client.get(f"/api/v1/t/{side.tenant.code}", headers=side.headers[SUPERVISOR])
        assert response.status_code == 200
        assert response.get_json()["code"] == side.tenant.code


# ---------------------------------------------------------------- the platform's routes

def platform_url(rule: str, world: World) -> str:
    return _PARAM.sub(lambda m: str(PLATFORM_PARAM_RECIPES[m.group(1)](world)), rule)


def test_platform_routes_role_matrix(client, world):
    callers = {f"A {role}": (role, headers) for role, headers in world.a.headers.items()}
    callers[PLATFORM_ADMIN] = (PLATFORM_ADMIN, world.platform_admin)
    problems: list[str] = []
    for method, rule in routes(client.application, PLATFORM_PREFIX):
        url = platform_url(rule, world)
        for label, (role, headers) in sorted(callers.items()):
            # `{}` bodies: a PATCH changes nothing, a POST fails validation (422) after the gate.
            response = call(client, method, rule, url, headers)
            if role in allowed_roles(method, rule, PLATFORM_EXPECTED):
                check_passed_gate(problems, f"{label} {method} {url}", response)
            else:
                check_error(problems, f"{label} {method} {url}", response, 403, "forbidden")
    assert not problems, "\n".join(problems)


def test_tenant_list_is_every_tenant_for_the_platform_admin_and_own_province_for_a_supervisor(
        client, world):
    def codes(headers):
        response = client.get(PLATFORM_PREFIX, headers=headers)
        assert response.status_code == 200, response.get_json()
        return [tenant["code"] for tenant in response.get_json()]

    assert codes(world.platform_admin) == sorted([world.a.tenant.code, world.b.tenant.code])
    assert codes(world.a.headers[SUPERVISOR]) == [world.a.tenant.code]
    assert codes(world.b.headers[SUPERVISOR]) == [world.b.tenant.code]
