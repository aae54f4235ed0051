"""Bad input to every endpoint gets a 4xx with the uniform body and changes nothing in the database.

The routes come from `app.url_map`, so an endpoint added later is swept automatically.
This module knows how to fill path parameters (PATH_VALUES, MISSING_PATH_VALUES) and
has one valid example body per JSON endpoint (EXAMPLE_BODIES); each bad case breaks
the valid example in exactly one way, so the refusal can only come from that fault.
A new path parameter or JSON endpoint makes `test_the_sweep_understands_every_api_route`
fail and say what to add here.

Every request is sent as a user whose role the route allows (read from
`app.common.authz.policy_for`), and after each one the whole database (every row of
every table but alembic_version, read as the owner) must equal the snapshot before.
"""
from __future__ import annotations

import base64
import copy
import itertools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from typing import Any, Callable

import jwt as pyjwt
import marshmallow as ma
import pytest
from marshmallow import validate

from app.common.authz import ViewPolicy, policy_for
from app.common.roles import Role
from tests.factories import (PASSWORD, TenantRef, UserRef, client_from, database_snapshot, login,
                             make_category, make_notification, make_roster_rows, snapshot_difference)
from tests.test_instruction_support import make_instruction
from tests.media_support import make_media

ERROR_KEYS = {"code", "status", "message", "error", "errors"}
WRITE_METHODS = ("POST", "PATCH", "PUT")
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The first role in this order that a route allows is the one the sweep acts as.
ROLE_PREFERENCE = (Role.TENANT_ADMIN, Role.DISPATCHER, Role.LEADER, Role.UNIT_LIAISON, Role.UNIT_LEADER,
                   Role.RESPONDER, Role.PLATFORM_ADMIN, Role.PROVINCIAL_SUPERVISOR)

NESTED_OBJECT = {"nested": "object"}
A_LIST = ["a", "list"]
UNBOUNDED_STRING_LENGTH = 100_000
BEYOND_BIGINT = 2 ** 63


# --- the world every sweep runs in ------------------------------------------------------------

@dataclass
class World:
    app: Any
    tenant: TenantRef
    users: dict[Role, UserRef]
    tokens: dict[Role, dict] = field(default_factory=dict)
    category_id: int | None = None      # a level-1 group
    notification_id: int | None = None  # a message of the tenant admin (the sweep's preferred caller)
    roster_ids: tuple[int, int] = (0, 0)  # a pattern and an override of the unit users' unit
    instruction_ids: tuple[int, int] = (0, 0)  # (incident, acknowledged instruction naming the responder)
    media_id: str | None = None                # a photo of that instruction

    def first_id(self, table: str) -> int:
        """The tenant's first row of a table every tenant is provisioned with."""
        from sqlalchemy import text

        from app.extensions import db
        from app.tenants.context import tenant_scope

        with self.app.app_context(), tenant_scope([self.tenant.id]):
            return db.session.execute(text(f"SELECT min(id) FROM {table}")).scalar_one()

    def bearer(self, role: Role | None) -> dict:
        if role is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]['access_token']}"}


_addresses = itertools.count(1)


def fresh_client(app):
    """A client from an address of its own: the login rate limit never answers for the bad input."""
    n = next(_addresses)
    return client_from(app, f"172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256}")


@pytest.fixture
def world(app, factory) -> World:
    tenant = factory.tenant()
    unit_id = factory.unit_id(tenant)
    users = {}
    for role in ROLE_PREFERENCE:
        if role == Role.PLATFORM_ADMIN:
            users[role] = factory.user(None, role.value)
        elif role == Role.PROVINCIAL_SUPERVISOR:
            users[role] = factory.user(None, role.value, province_code=tenant.province_code)
        else:
            users[role] = factory.user(tenant, role.value, unit_id=unit_id if role in (
                Role.UNIT_LIAISON, Role.UNIT_LEADER, Role.RESPONDER) else None)
    result = World(app=app, tenant=tenant, users=users)
    result.category_id = make_category(app, tenant, code="SWEEP", name="扫描分组")
    result.notification_id = make_notification(app, tenant, users[Role.TENANT_ADMIN])
    result.roster_ids = make_roster_rows(app, tenant, users[Role.RESPONDER])
    result.instruction_ids = make_instruction(app, tenant, desk_user_id=users[Role.DISPATCHER].id,
                                              liaison_user_id=users[Role.UNIT_LIAISON].id,
                                              responder_user_id=users[Role.RESPONDER].id)
    result.media_id = make_media(app, tenant, uploader_user_id=users[Role.RESPONDER].id,
                                 instruction_id=result.instruction_ids[1])
    for role, user in users.items():
        result.tokens[role] = login(fresh_client(app), user)
    return result


# Real values for every path parameter of an /api/v1 route. Add one when a route brings a new name.
PATH_VALUES: dict[str, Callable[[World], Any]] = {
    "tenant_code": lambda w: w.tenant.code,
    "code": lambda w: w.tenant.code,
    "user_id": lambda w: w.users[Role.DISPATCHER].id,
    "unit_id": lambda w: w.users[Role.UNIT_LIAISON].unit_id,
    "category_id": lambda w: w.category_id,
    "notification_id": lambda w: w.notification_id,
    "time_limit_id": lambda w: w.first_id("time_limit_defaults"),
    "escalation_step_id": lambda w: w.first_id("escalation_steps"),
    "pattern_id": lambda w: w.roster_ids[0],
    "override_id": lambda w: w.roster_ids[1],
    "incident_id": lambda w: w.instruction_ids[0],
    "instruction_id": lambda w: w.instruction_ids[1],
    "media_id": lambda w: w.media_id,
}

# A value of the right shape that names nothing.
MISSING_PATH_VALUES: dict[str, Any] = {
    "tenant_code": "999999",
    "code": "999999",
    "user_id": 987654321,
    "unit_id": 987654321,
    "category_id": 987654321,
    "notification_id": 987654321,
    "time_limit_id": 987654321,
    "escalation_step_id": 987654321,
    "pattern_id": 987654321,
    "override_id": 987654321,
    "incident_id": 987654321,
    "instruction_id": 987654321,
    "media_id": "00000000-0000-4000-8000-000000000000",
}

# One valid body per JSON endpoint, with every field the schema declares (ids real, so that a bad
# value of one field is the only fault: e.g. a unit role, so `unit_id` is looked up).
EXAMPLE_BODIES: dict[tuple[str, str], Callable[[World], dict]] = {
    ("POST", "/api/v1/auth/login"): lambda w: {
        "username": w.users[Role.DISPATCHER].username, "password": PASSWORD},
    ("POST", "/api/v1/auth/password"): lambda w: {
        "current_password": PASSWORD, "new_password": "Other-pass-2"},
    ("POST", "/api/v1/tenants"): lambda w: {
        "code": "620623", "name": "天祝藏族自治县", "province_code": "620000",
        "time_zone": "Asia/Shanghai", "template": None},
    ("PATCH", "/api/v1/tenants/<code>"): lambda w: {
        "name": "凉州区", "status": "active", "time_zone": "Asia/Shanghai"},
    ("PATCH", "/api/v1/t/<tenant_code>"): lambda w: {
        "time_zone": "Asia/Urumqi", "settings": {"bulletin_period": "quarter"}},
    ("POST", "/api/v1/t/<tenant_code>/users"): lambda w: {
        "username": "new.user", "display_name": "新用户", "phone": "+86-13900000000",
        "password": "Good-pass-9", "roles": ["responder"], "unit_id": w.users[Role.RESPONDER].unit_id},
    ("PATCH", "/api/v1/t/<tenant_code>/users/<int:user_id>"): lambda w: {
        "display_name": "改名", "phone": "13900000001", "roles": ["responder"],
        "unit_id": w.users[Role.RESPONDER].unit_id,
        "is_active": True, "unlock": False},
    ("POST", "/api/v1/t/<tenant_code>/users/<int:user_id>/password"): lambda w: {
        "new_password": "Other-pass-2"},
    ("POST", "/api/v1/t/<tenant_code>/units"): lambda w: {
        "name": "区新单位", "short_name": "新单位", "duty_class": "standard", "kind": "linkage",
        "webhook_url": "https://unit.example.gov.cn/hook", "sort_order": 40,
        "responsibilities": [{"number": 1, "text": "负责新事项"}], **CONTACTS},
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>"): lambda w: {
        "name": "区建设局", "short_name": "建设", "duty_class": "emergency", "kind": "linkage",
        "webhook_url": "https://unit.example.gov.cn/hook", "sort_order": 14, "is_active": True,
        "responsibilities": [{"number": 1, "text": "负责供排水管网抢修"}], **CONTACTS},
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>/contacts"): lambda w: dict(CONTACTS),
    ("POST", "/api/v1/t/<tenant_code>/categories"): lambda w: {
        "code": "NEW-1", "name": "新类别", "parent_id": w.category_id, "lead_unit_id": w.users[Role.UNIT_LIAISON].unit_id,
        "assisting_unit_ids": [], "responsibility_ids": [], "description": "说明", "keywords": ["关键词"],
        "route": "direct", "severity": "general", "needs_site_visit": True, "sort_order": 1,
        "time_limits": {"ack_minutes": 30, "arrive_minutes": {"urban": 30, "suburban": 45, "rural": 60},
                        "resolve_working_days": 3}},
    ("PATCH", "/api/v1/t/<tenant_code>/categories/<int:category_id>"): lambda w: {
        "name": "扫描分组", "description": "", "keywords": [], "lead_unit_id": None, "assisting_unit_ids": [],
        "responsibility_ids": [], "route": "direct", "severity": "general", "needs_site_visit": True,
        "sort_order": 0, "is_active": True, "time_limits": {"resolve_hours": 4}},
    ("PATCH", "/api/v1/t/<tenant_code>/time-limits/defaults/<int:time_limit_id>"): lambda w: {
        "ack_minutes": 15, "arrive_minutes": {"urban": 30, "suburban": 45, "rural": 60},
        "resolve_hours": None, "resolve_working_days": 4},
    ("PATCH", "/api/v1/t/<tenant_code>/time-limits/escalation-steps/<int:escalation_step_id>"): lambda w: {
        "offset_minutes": -10, "recipients": ["liaison", "on_duty"], "is_enabled": True},
    ("POST", "/api/v1/t/<tenant_code>/time-limits/preview"): lambda w: {
        "duty_class": "standard", "severity": "general", "area": "urban", "needs_site_visit": True,
        "category_id": None, "issued_at": "2026-02-13T02:00:00+00:00"},
    ("POST", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns"): lambda w: {
        "name": "24小时轮班", "starts_on": "2026-03-01", "start_time": "08:00", "shift_hours": 12,
        "every_hours": 24, "ends_on": "2026-12-31",
        "user_ids": [w.users[Role.RESPONDER].id, w.users[Role.UNIT_LIAISON].id]},
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/patterns/<int:pattern_id>"): lambda w: {
        "name": "白班", "starts_on": "2026-03-02", "start_time": "09:00", "shift_hours": 12, "every_hours": 24,
        "ends_on": None, "user_ids": [w.users[Role.UNIT_LEADER].id]},
    ("POST", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides"): lambda w: {
        "kind": "replace", "user_id": w.users[Role.UNIT_LEADER].id, "replaced_user_id": w.users[Role.RESPONDER].id,
        "starts_at": "2026-03-03T08:00:00+08:00", "ends_at": "2026-03-04T08:00:00+08:00", "note": "调班"},
    ("PATCH", "/api/v1/t/<tenant_code>/units/<int:unit_id>/roster/overrides/<int:override_id>"): lambda w: {
        "user_id": w.users[Role.UNIT_LEADER].id, "replaced_user_id": None,
        "starts_at": "2026-01-01T09:00:00+08:00", "ends_at": "2026-01-01T10:00:00+08:00", "note": "加班"},
    ("POST", "/api/v1/t/<tenant_code>/routing/suggest"): lambda w: {"text": "我家然气漏了，电悌也坏了", "limit": 5},
    ("POST", "/api/v1/t/<tenant_code>/incidents"): lambda w: {
        "source": "phone_110", "received_at": "2026-03-01T08:00:00+08:00", "caller_name": "张三",
        "caller_phone": "13812345678", "address": "南关西路幸福小区", "area_type": "urban", "latitude": 37.928,
        "longitude": 102.641, "location_accuracy_m": 30, "description": "楼道里燃气味很重", "category_id": None,
        "severity": "urgent", "route": "police_first"},
    ("PATCH", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>"): lambda w: {
        "address": "南关西路幸福小区3号楼", "area_type": "suburban", "latitude": 37.929, "longitude": 102.642,
        "location_accuracy_m": 10, "description": "燃气泄漏", "category_id": None, "severity": "major",
        "route": "police"},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/merge-call"): lambda w: {
        "source": "transfer_12345", "received_at": "2026-03-01T08:05:00+08:00", "caller_name": "李四",
        "caller_phone": "13900001111", "description": "对面楼也闻到燃气味"},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/urge"): lambda w: {
        "instruction_id": w.instruction_ids[1], "note": "请尽快处置", "version": 99},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/callback"): lambda w: {
        "satisfaction": "dissatisfied", "note": "群众不满意", "version": 99},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/close"): lambda w: {"note": "办结", "version": 99},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/cancel"): lambda w: {"reason": "误报", "version": 99},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/instructions"): lambda w: {
        "instructions": [{"unit_id": w.users[Role.UNIT_LIAISON].unit_id, "role": "lead", "note": "速去现场",
                          "reissue_of_id": w.instruction_ids[1]}], "needs_site_visit": True},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/acknowledge"): lambda w: {
        "version": 2, "client_time": "2026-11-29T09:00:00+08:00", "responder_ids": [w.users[Role.RESPONDER].id]},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/return"): lambda w: {"version": 2, "client_time": "2026-11-29T09:00:00+08:00", "reason": "不属本单位职责"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/set-out"): lambda w: {"version": 2, "client_time": "2026-11-29T09:00:00+08:00"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/arrive"): lambda w: {
        "version": 2, "client_time": "2026-11-29T09:00:00+08:00", "text": "已到达现场", "position": {"latitude": 37.928, "longitude": 102.641, "accuracy_m": 15}, "media_ids": ["0b6f2a52-3c4e-4a5e-9a53-5d2f3b8c9d01"]},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/progress"): lambda w: {
        "version": 2, "client_time": "2026-11-29T09:00:00+08:00", "text": "正在处置", "position": {"latitude": 37.928, "longitude": 102.641, "accuracy_m": 15}, "media_ids": ["0b6f2a52-3c4e-4a5e-9a53-5d2f3b8c9d01"]},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/resolve"): lambda w: {
        "version": 2, "client_time": "2026-11-29T09:00:00+08:00", "text": "已处置完毕", "position": {"latitude": 37.928, "longitude": 102.641, "accuracy_m": 15}, "media_ids": ["0b6f2a52-3c4e-4a5e-9a53-5d2f3b8c9d01"],
        "result_code": "10"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/cancel"): lambda w: {"version": 2, "reason": "误报"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/reopen"): lambda w: {"version": 2, "reason": "群众不满意，重办"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/reissue"): lambda w: {"version": 2, "note": "退回理由不成立"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/review"): lambda w: {
        "version": 2, "outcome": "sent_back", "note": "现场照片不清楚"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/request-extension"): lambda w: {
        "version": 2, "client_time": "2026-11-29T09:00:00+08:00", "reason": "管材需外地调运",
        "resolve_by": "2026-12-20T18:00:00+08:00"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/approve-extension"): lambda w: {
        "version": 2, "resolve_by": "2026-12-20T18:00:00+08:00", "note": "同意"},
    ("POST", "/api/v1/t/<tenant_code>/instructions/<int:instruction_id>/refuse-extension"): lambda w: {
        "version": 2, "note": "可先临时处置"},
    ("PUT", "/api/v1/t/<tenant_code>/notifications/endpoints"): lambda w: {
        "channel": "webhook", "unit_id": w.users[Role.UNIT_LIAISON].unit_id, "target": "https://unit.example.gov.cn/hook",
        "secret": "unit-webhook-secret-0001", "is_enabled": True},
    ("POST", "/api/v1/t/<tenant_code>/incidents/<int:incident_id>/merge"): lambda w: {
        "into_incident_id": w.instruction_ids[0], "note": "同一事件重复接警", "version": 99},
}

CONTACTS = {"duty_phone": "0935-2210000", "leader_name": "赵局长", "leader_title": "副局长",
            "leader_phone": "13900000001", "liaison_name": "李明", "liaison_title": "科长",
            "liaison_phone": "13900000002"}


# --- what the sweep learns about each route ---------------------------------------------------

@dataclass
class Endpoint:
    rule: Any
    method: str
    policy: ViewPolicy
    body_schema: ma.Schema | None
    query_schema: ma.Schema | None
    max_page_size: int | None  # None: the route does not page
    unknown_locations: list[str]

    @property
    def paginated(self) -> bool:
        return self.max_page_size is not None

    @property
    def label(self) -> str:
        return f"{self.method} {self.rule.rule}"

    @property
    def path_params(self) -> list[str]:
        return sorted(self.rule.arguments)

    @property
    def role(self) -> Role | None:
        """The role the sweep acts as: None for public routes."""
        if self.policy.is_public:
            return None
        allowed = [role for role in ROLE_PREFERENCE if role in (self.policy.roles or ())]
        assert allowed, f"{self.label}: none of the roles {self.policy.roles} is known to this sweep"
        return allowed[0]


def _view_method(app, endpoint: str, method: str):
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method.lower(), None) if view_class is not None else view


def api_endpoints(app) -> list[Endpoint]:
    """Every /api/v1 route and method, with its access policy and argument schemas."""
    found = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if not rule.rule.startswith("/api/v1/"):
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                apidoc = getattr(_view_method(app, rule.endpoint, method), "_apidoc", {}) or {}
                body_schema = query_schema = None
                unknown = []
                for parameter in (apidoc.get("arguments") or {}).get("parameters", []):
                    schema = parameter["schema"]
                    schema = schema() if isinstance(schema, type) else schema
                    if parameter["in"] == "json":
                        body_schema = schema
                    elif parameter["in"] in ("query", "querystring"):
                        query_schema = schema
                    else:
                        unknown.append(parameter["in"])
                found.append(Endpoint(rule, method, policy_for(rule.endpoint, method), body_schema,
                                      query_schema, _max_page_size(apidoc), unknown))
    return found


def _max_page_size(apidoc: dict) -> int | None:
    """The page_size limit flask-smorest's paginate() declared for the route."""
    if "pagination" not in apidoc:
        return None
    field = apidoc["pagination"]["parameters"]["schema"]().fields["page_size"]
    return next(v.max for v in field.validators if isinstance(v, validate.Range))


def build_path(world: World, endpoint: Endpoint, **overrides) -> str:
    values = {}
    for name in endpoint.path_params:
        if name in overrides:
            values[name] = overrides[name]
        elif name in PATH_VALUES:
            values[name] = PATH_VALUES[name](world)
        else:
            pytest.fail(f"{endpoint.label}: the sweep has no value for the path parameter <{name}>. "
                        f"Add a real value to PATH_VALUES and one that names nothing to "
                        f"MISSING_PATH_VALUES in {__name__}.")
    adapter = world.app.url_map.bind("localhost")
    return adapter.build(endpoint.rule.endpoint, values, method=endpoint.method)


def example_body(world: World, endpoint: Endpoint) -> dict:
    key = (endpoint.method, endpoint.rule.rule)
    if key not in EXAMPLE_BODIES:
        pytest.fail(f"{endpoint.label} takes a JSON body but {__name__}.EXAMPLE_BODIES has no valid "
                    f"example for it. Add one with every field of {type(endpoint.body_schema).__name__}.")
    return EXAMPLE_BODIES[key](world)


# --- bad values, derived from the marshmallow fields ------------------------------------------

def loadable_fields(schema: ma.Schema) -> dict[str, ma.fields.Field]:
    """The schema's input fields under the keys a client sends."""
    return {fld.data_key or name: fld for name, fld in schema.load_fields.items()}


def wrong_type_values(fld: ma.fields.Field) -> list:
    """JSON values of the wrong type for this field: each must be refused."""
    if isinstance(fld, ma.fields.Boolean):
        values = ["maybe", 2, NESTED_OBJECT, A_LIST]
    elif isinstance(fld, ma.fields.Number):
        values = ["abc", True, NESTED_OBJECT, A_LIST]  # 1.5 for an Integer: see the known gaps below
    elif isinstance(fld, (ma.fields.DateTime, ma.fields.Date, ma.fields.Time)):
        values = ["not a date", 42, NESTED_OBJECT, A_LIST]
    elif isinstance(fld, ma.fields.List):
        values = ["not a list", 42, NESTED_OBJECT]
        inner = wrong_type_values(fld.inner)
        if inner:
            values.append([inner[0]])
    elif isinstance(fld, (ma.fields.Dict, ma.fields.Nested)):
        values = ["not an object", 42, A_LIST]
    elif isinstance(fld, ma.fields.String):
        values = [12345, True, NESTED_OBJECT, A_LIST]
    elif type(fld) is ma.fields.Raw:
        values = []  # anything goes, by declaration
    else:
        values = [NESTED_OBJECT, A_LIST]  # a field type this sweep does not know: at least these
    if not fld.allow_none and values:
        values.append(None)
    return values


def _sized(fld: ma.fields.Field, size: int, valid_value):
    if isinstance(fld, ma.fields.List):
        item = valid_value[0] if valid_value else "x"
        return [item] * size
    if isinstance(fld, ma.fields.Dict):
        return {f"k{i}": i for i in range(size)}
    return "x" * size


def out_of_limit_values(fld: ma.fields.Field, valid_value=None) -> list[tuple[str, Any]]:
    """(description, value) pairs outside the limits the field declares."""
    values: list[tuple[str, Any]] = []
    bounded = False
    for validator in fld.validators:
        if isinstance(validator, validate.Length):
            bounded = bounded or validator.max is not None
            if validator.min:
                values.append((f"shorter than {validator.min}", _sized(fld, validator.min - 1, valid_value)))
            if validator.max is not None:
                values.append((f"longer than {validator.max}", _sized(fld, validator.max + 1, valid_value)))
        elif isinstance(validator, validate.OneOf):
            bounded = True
            values.append(("not one of the choices", "no_such_choice"))
        elif isinstance(validator, (validate.Regexp, validate.Equal)):
            bounded = True
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                values.append((f"below {validator.min}", validator.min - 1))
            if validator.max is not None:
                values.append((f"above {validator.max}", validator.max + 1))
    if isinstance(fld, ma.fields.String) and not bounded:
        values.append((f"a {UNBOUNDED_STRING_LENGTH}-character string (no declared limit)",
                       "x" * UNBOUNDED_STRING_LENGTH))
    if isinstance(fld, ma.fields.List):
        for description, item in out_of_limit_values(fld.inner):
            values.append((f"an item {description}", [item]))
    if isinstance(fld, ma.fields.Dict) and isinstance(fld.key_field, ma.fields.String):
        for description, key in out_of_limit_values(fld.key_field):
            if isinstance(key, str):
                values.append((f"a key {description}", {key: "v"}))
    return values


@dataclass
class Case:
    description: str
    kwargs: dict
    status: int
    field: str | None = None  # must be named in `errors`


def body_cases(schema: ma.Schema, example: dict) -> list[Case]:
    cases = [
        Case("malformed JSON", dict(data="{not json", content_type="application/json"), 400),
        Case("truncated JSON", dict(data=json.dumps(example)[:-1], content_type="application/json"), 400),
        Case("JSON that is not UTF-8", dict(data=b'{"a": "\xff\xfe"}', content_type="application/json"), 400),
        Case("a JSON array holding the valid body", dict(json=[example]), 422),
        Case("a JSON string", dict(json="text"), 422),
        Case("a JSON number", dict(json=42), 422),
        Case("JSON null", dict(data="null", content_type="application/json"), 422),
        Case("an unknown field", dict(json={**example, "no_such_field": 1}), 422, "no_such_field"),
    ]
    for name, fld in loadable_fields(schema).items():
        if fld.required:
            body = {k: v for k, v in example.items() if k != name}
            cases.append(Case(f"required {name!r} missing", dict(json=body), 422, name))
        for value in wrong_type_values(fld):
            cases.append(Case(f"{name!r} = {json.dumps(value, ensure_ascii=False)}",
                              dict(json={**example, name: value}), 422, name))
        for description, value in out_of_limit_values(fld, example.get(name)):
            cases.append(Case(f"{name!r} {description}", dict(json={**example, name: value}), 422, name))
    return cases


def query_wrong_values(fld: ma.fields.Field) -> list[str]:
    """Query-string values of the wrong type for this field."""
    if isinstance(fld, ma.fields.Boolean):
        return ["maybe", "2"]
    if isinstance(fld, ma.fields.Integer):
        return ["abc", "1.5", ""]
    if isinstance(fld, ma.fields.Number):
        return ["abc", ""]
    if isinstance(fld, ma.fields.AwareDateTime):
        return ["not-a-date", "2024-01-01T00:00:00"]  # the second is naive: no offset
    if isinstance(fld, (ma.fields.DateTime, ma.fields.Date)):
        return ["not-a-date"]
    return []


def query_cases(endpoint: Endpoint) -> list[Case]:
    cases = []
    if endpoint.paginated:
        for name, value in [("page", "abc"), ("page", "0"), ("page", "-1"), ("page", "1.5"), ("page", ""),
                            ("page_size", "abc"), ("page_size", "0"), ("page_size", "-5"),
                            ("page_size", str(endpoint.max_page_size + 1)), ("page_size", "100000")]:
            cases.append(Case(f"{name}={value}", dict(query_string={name: value}), 422, name))
    if endpoint.query_schema is not None:
        for name, fld in loadable_fields(endpoint.query_schema).items():
            for value in query_wrong_values(fld):
                cases.append(Case(f"{name}={value}", dict(query_string={name: value}), 422, name))
            for description, value in out_of_limit_values(fld):
                if isinstance(value, (str, int)):
                    cases.append(Case(f"{name} {description}", dict(query_string={name: str(value)}), 422, name))
    return cases


# --- running the cases ------------------------------------------------------------------------

def uniform_body_problems(response) -> list[str]:
    body = response.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        return [f"body is not the uniform error body: {response.get_data(as_text=True)[:300]}"]
    problems = []
    if body["code"] != response.status_code:
        problems.append(f"code {body['code']!r} but status {response.status_code}")
    if body["status"] != HTTPStatus(response.status_code).phrase:
        problems.append(f"status {body['status']!r} is not the phrase of {response.status_code}")
    if not (isinstance(body["message"], str) and body["message"]):
        problems.append(f"message {body['message']!r} is empty")
    if not (isinstance(body["error"], str) and body["error"]):
        problems.append(f"error {body['error']!r} is not a machine code")
    if not isinstance(body["errors"], dict):
        problems.append(f"errors {body['errors']!r} is not an object")
    return problems


class Sweep:
    """Sends requests, checks each refusal and the database after it, and collects every problem."""

    def __init__(self, world: World, owner_engine):
        self.world = world
        self.owner_engine = owner_engine
        self.problems: list[str] = []
        self.requests = 0
        self.snapshot = database_snapshot(owner_engine)

    def send(self, method: str, path: str, headers: dict | None = None, **kwargs):
        self.requests += 1
        return fresh_client(self.world.app).open(path, method=method, headers=headers or {}, **kwargs)

    def expect(self, label: str, response, status: int | None = None, error: str | None = None,
               field: str | None = None) -> None:
        problems = []
        if status is not None and response.status_code != status:
            problems.append(f"status {response.status_code}, expected {status}")
        elif not 400 <= response.status_code < 500:
            problems.append(f"status {response.status_code}, expected a 4xx")
        problems += uniform_body_problems(response)
        body = response.get_json(silent=True) or {}
        if not problems:
            if error is not None and body["error"] != error:
                problems.append(f"error {body['error']!r}, expected {error!r}")
            if field is not None and field not in body["errors"]:
                problems.append(f"errors {body['errors']} do not name {field!r}")
        after = database_snapshot(self.owner_engine)
        if after != self.snapshot:
            problems.append("the database changed:\n" + snapshot_difference(self.snapshot, after))
            self.snapshot = after  # report each change once
        for problem in problems:
            self.problems.append(f"{label}: {problem} [{body.get('error')}: {body.get('message')}]"
                                 if isinstance(body, dict) else f"{label}: {problem}")

    def expect_no_change(self, label: str) -> None:
        after = database_snapshot(self.owner_engine)
        if after != self.snapshot:
            self.problems.append(f"{label}: the database changed:\n" + snapshot_difference(self.snapshot, after))
            self.snapshot = after

    def run_case(self, endpoint: Endpoint, path: str, case: Case, headers: dict | None = None) -> None:
        response = self.send(endpoint.method, path, headers=headers or self.world.bearer(endpoint.role),
                             **copy.deepcopy(case.kwargs))
        self.expect(f"{endpoint.label} with {case.description}", response, case.status, field=case.field)

    def assert_clean(self, minimum_requests: int = 1) -> None:
        assert self.requests >= minimum_requests, f"the sweep sent only {self.requests} requests"
        assert not self.problems, (f"{len(self.problems)} of {self.requests} bad requests were not refused "
                                   "cleanly:\n" + "\n".join(self.problems))


@pytest.fixture
def sweep(world, owner_engine) -> Sweep:
    return Sweep(world, owner_engine)


@pytest.fixture
def endpoints(app) -> list[Endpoint]:
    return api_endpoints(app)


# --- the catalogue ----------------------------------------------------------------------------

def test_the_sweep_understands_every_api_route(world, endpoints):
    labels = {endpoint.label for endpoint in endpoints}
    # The sweep must see the routes we know of, or it proves nothing.
    assert {"POST /api/v1/auth/login", "POST /api/v1/t/<tenant_code>/users",
            "GET /api/v1/t/<tenant_code>/audit-events", "PATCH /api/v1/t/<tenant_code>"} <= labels
    for endpoint in endpoints:
        assert not endpoint.unknown_locations, (
            f"{endpoint.label} reads arguments from {endpoint.unknown_locations}; teach {__name__} "
            "to send bad input there")
        build_path(world, endpoint)
        for name in endpoint.path_params:
            assert name in MISSING_PATH_VALUES, f"add <{name}> to {__name__}.MISSING_PATH_VALUES"
        if endpoint.body_schema is not None:
            assert endpoint.method in WRITE_METHODS, f"{endpoint.label} reads a JSON body"
            example = example_body(world, endpoint)
            # The example is valid, and complete: each bad case then breaks exactly one thing.
            endpoint.body_schema.load(example)
            assert set(example) == set(loadable_fields(endpoint.body_schema)), endpoint.label
        if not endpoint.policy.is_public:
            assert endpoint.role is not None


# --- bodies -----------------------------------------------------------------------------------

def test_bad_json_bodies_are_refused_with_the_uniform_body_and_change_nothing(world, endpoints, sweep):
    """Malformed JSON, arrays, scalars, unknown fields, missing or mistyped fields, values over limits."""
    for endpoint in endpoints:
        if endpoint.body_schema is None:
            continue
        path = build_path(world, endpoint)
        for case in body_cases(endpoint.body_schema, example_body(world, endpoint)):
            sweep.run_case(endpoint, path, case)
    sweep.assert_clean(minimum_requests=100)


# --- query strings ----------------------------------------------------------------------------

def test_bad_query_values_are_refused_with_the_uniform_body_and_change_nothing(world, endpoints, sweep):
    """page=abc, page_size=0 or 100000, unknown enum values, naive datetimes, over-long filters."""
    swept = 0
    for endpoint in endpoints:
        cases = query_cases(endpoint)
        if not cases:
            continue
        swept += 1
        path = build_path(world, endpoint)
        for case in cases:
            sweep.run_case(endpoint, path, case)
    assert swept >= 2
    sweep.assert_clean(minimum_requests=20)


# --- path parameters, methods, unknown paths --------------------------------------------------

def test_a_path_id_that_names_nothing_is_404_with_the_uniform_body(world, endpoints, sweep):
    checked = 0
    for endpoint in endpoints:
        body = dict(json=example_body(world, endpoint)) if endpoint.body_schema is not None else {}
        for name in endpoint.path_params:
            assert name in MISSING_PATH_VALUES, f"add <{name}> to {__name__}.MISSING_PATH_VALUES"
            path = build_path(world, endpoint, **{name: MISSING_PATH_VALUES[name]})
            response = sweep.send(endpoint.method, path, headers=world.bearer(endpoint.role), **body)
            sweep.expect(f"{endpoint.label} with <{name}> = {MISSING_PATH_VALUES[name]}", response, 404)
            checked += 1
    assert checked >= 5
    sweep.assert_clean()


def test_a_wrong_method_is_405_method_not_allowed_with_the_uniform_body(world, endpoints, sweep):
    adapter = world.app.url_map.bind("localhost")
    paths = {}
    for endpoint in endpoints:
        paths.setdefault(build_path(world, endpoint), endpoint.role)
    for path, role in sorted(paths.items()):
        allowed = set(adapter.allowed_methods(path))
        for method in ALL_METHODS:
            if method in allowed:
                continue
            for who, headers in (("anonymous", {}), ("with a token", world.bearer(role))):
                response = sweep.send(method, path, headers=headers, json={})
                sweep.expect(f"{method} {path} ({who})", response, 405, "method_not_allowed")
                advertised = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
                if advertised != allowed:
                    sweep.problems.append(f"{method} {path}: Allow {advertised}, expected {allowed}")
    sweep.assert_clean(minimum_requests=20)


def test_an_unknown_api_path_is_404_not_found_with_the_uniform_body(world, sweep):
    code = world.tenant.code
    user_id = world.users[Role.DISPATCHER].id
    paths = ["/api/v1/", "/api/v1/nope", "/api/v1/auth/nope", "/api/v1/tenants/620602/nope",
             f"/api/v1/t/{code}/nope", f"/api/v1/t/{code}/users/{user_id}/nope",
             f"/api/v1/t/{code}/users/not-a-number", f"/api/v1/t/{code}/users/-1", "/api/v2/auth/login"]
    for path in paths:
        for method in ("GET", "POST"):
            for who, headers in (("anonymous", {}), ("as tenant admin", world.bearer(Role.TENANT_ADMIN))):
                response = sweep.send(method, path, headers=headers, json={})
                sweep.expect(f"{method} {path} ({who})", response, 404, "not_found")
    sweep.assert_clean()


# --- tokens -----------------------------------------------------------------------------------

def _claims(world: World, role: Role, kind: str = "access") -> dict:
    from flask_jwt_extended import decode_token

    with world.app.app_context():
        return decode_token(world.tokens[role][f"{kind}_token"])


def expired_token(world: World, role: Role, kind: str = "access") -> str:
    """A token with the claims `_issue` gives (sub, tv, fam, tid, roles) that expired a minute ago."""
    from flask_jwt_extended import create_access_token, create_refresh_token

    claims = _claims(world, role, kind)
    extra = {name: claims[name] for name in ("tv", "fam", "tid", "roles") if name in claims}
    create = create_access_token if kind == "access" else create_refresh_token
    with world.app.app_context():
        return create(identity=claims["sub"], additional_claims=extra, expires_delta=timedelta(minutes=-1))


def foreign_signed_token(world: World, role: Role) -> str:
    """The same claims, signed with a key that is not the app's."""
    return pyjwt.encode(_claims(world, role), "not-the-app-secret-" + "x" * 32, algorithm="HS256")


def unsigned_token(world: World, role: Role) -> str:
    return pyjwt.encode(_claims(world, role), key=None, algorithm="none")


def tampered_token(world: World, role: Role) -> str:
    """A real token whose payload now claims platform_admin: the signature no longer matches."""
    header, payload, signature = world.tokens[role]["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["platform_admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def bad_credentials(world: World, role: Role) -> list[tuple[str, dict, str]]:
    """(description, headers, expected error) for every kind of unusable credential."""
    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    return [
        ("no Authorization header", {}, "unauthorized"),
        ("a Basic Authorization header", {"Authorization": "Basic dXNlcjpwYXNz"}, "unauthorized"),
        ("a garbled token", bearer("not-a-jwt"), "token_invalid"),
        ("three garbled segments", bearer("abc.def.ghi"), "token_invalid"),
        ("a tampered token", bearer(tampered_token(world, role)), "token_invalid"),
        ("a token signed with another key", bearer(foreign_signed_token(world, role)), "token_invalid"),
        ("an unsigned (alg none) token", bearer(unsigned_token(world, role)), "token_invalid"),
        ("a refresh token", bearer(world.tokens[role]["refresh_token"]), "token_invalid"),
        ("an expired token", bearer(expired_token(world, role)), "token_expired"),
    ]


def test_missing_garbled_forged_and_expired_tokens_are_401_on_every_protected_route(world, endpoints, sweep):
    protected = [endpoint for endpoint in endpoints if not endpoint.policy.is_public]
    assert len(protected) >= 8
    credentials = {}
    for endpoint in protected:
        role = endpoint.role
        credentials.setdefault(role, bad_credentials(world, role))
        body = dict(json=example_body(world, endpoint)) if endpoint.body_schema is not None else {}
        path = build_path(world, endpoint)
        for description, headers, error in credentials[role]:
            response = sweep.send(endpoint.method, path, headers=headers, **body)
            sweep.expect(f"{endpoint.label} with {description}", response, 401, error)
        if endpoint.method == "GET" or endpoint.body_schema is not None:
            # With the real token the same request gets past the gate (a body-less write such as
            # logout would do its work, so it is not repeated): the refusals above were the token's.
            probe = dict(json={"no_such_field": 1}) if endpoint.body_schema is not None else {}
            response = sweep.send(endpoint.method, path, headers=world.bearer(role), **probe)
            sweep.expect_no_change(f"{endpoint.label} with the real token")
            assert response.status_code not in (401, 403, 404), (
                f"{endpoint.label}: the real token is refused too ({response.status_code})")
    sweep.assert_clean(minimum_requests=70)


def test_refresh_refuses_missing_garbled_access_and_expired_tokens_with_401(world, sweep):
    role = Role.DISPATCHER
    cases = [
        ("no Authorization header", {}, "unauthorized"),
        ("a garbled token", {"Authorization": "Bearer not-a-jwt"}, "token_invalid"),
        ("an access token", world.bearer(role), "token_invalid"),
        ("an expired refresh token", {"Authorization": f"Bearer {expired_token(world, role, 'refresh')}"},
         "token_expired"),
    ]
    for description, headers, error in cases:
        sweep.expect(f"POST /api/v1/auth/refresh with {description}",
                     sweep.send("POST", "/api/v1/auth/refresh", headers=headers), 401, error)
    sweep.assert_clean()


# --- input PostgreSQL cannot hold: refused up front, never a 500 from the database -----------

def _nul_string_cases(fld: ma.fields.Field) -> list[tuple[str, Any]]:
    nul = "a\x00b"
    if isinstance(fld, ma.fields.String):
        return [("holding a NUL character", nul)]
    if isinstance(fld, ma.fields.List) and isinstance(fld.inner, ma.fields.String):
        return [("with an item holding a NUL character", [nul])]
    if isinstance(fld, ma.fields.Dict):
        return [("with a key holding a NUL character", {nul: "v"}),
                ("with a value holding a NUL character", {"k": nul})]
    return []


def test_strings_holding_a_nul_character_are_refused_with_422_or_404_in_a_path(world, endpoints, sweep):
    """PostgreSQL text and jsonb cannot hold U+0000: body fields (passwords too), settings keys and
    values, query filters and the tenant code in the path are refused before any query runs."""
    for endpoint in endpoints:
        path = build_path(world, endpoint)
        if endpoint.body_schema is not None:
            example = example_body(world, endpoint)
            for name, fld in loadable_fields(endpoint.body_schema).items():
                for description, value in _nul_string_cases(fld):
                    sweep.run_case(endpoint, path, Case(f"{name!r} {description}",
                                                        dict(json={**example, name: value}), 422, name))
        if endpoint.query_schema is not None:
            for name, fld in loadable_fields(endpoint.query_schema).items():
                if isinstance(fld, ma.fields.String) and not any(
                        isinstance(v, validate.OneOf) for v in fld.validators):
                    sweep.run_case(endpoint, path, Case(f"query {name} holding a NUL character",
                                                        dict(query_string={name: "a\x00b"}), 422, name))
        if "tenant_code" in endpoint.path_params:
            response = sweep.send(endpoint.method, build_path(world, endpoint, tenant_code="62\x00602"),
                                  headers=world.bearer(endpoint.role))
            sweep.expect(f"{endpoint.label} with a NUL in <tenant_code>", response, 404)
    sweep.assert_clean()


def test_a_fractional_number_for_an_integer_field_is_refused_not_truncated(world, endpoints, sweep):
    """A JSON 1.5 for an id must be a 422, not silently the id 1 (a write to the wrong row)."""
    swept = 0
    for endpoint in endpoints:
        if endpoint.body_schema is None:
            continue
        example = example_body(world, endpoint)
        for name, fld in loadable_fields(endpoint.body_schema).items():
            if isinstance(fld, ma.fields.Integer) and isinstance(example.get(name), int):
                swept += 1
                sweep.run_case(endpoint, build_path(world, endpoint),
                               Case(f"{name!r} = {example[name]}.5", dict(json={**example, name: example[name] + 0.5}),
                                    422, name))
    assert swept >= 2
    sweep.assert_clean()


def test_integers_beyond_bigint_are_refused_and_an_absurd_page_is_just_empty(world, endpoints, sweep):
    """Ids >= 2**63 in bodies and queries are 422, in paths 404; a page far past the end is an
    empty 200 like any page past the last, never an OFFSET overflow."""
    for endpoint in endpoints:
        path = build_path(world, endpoint)
        if endpoint.body_schema is not None:
            example = example_body(world, endpoint)
            for name, fld in loadable_fields(endpoint.body_schema).items():
                if isinstance(fld, ma.fields.Integer):
                    sweep.run_case(endpoint, path, Case(f"{name!r} = 2**63",
                                                        dict(json={**example, name: BEYOND_BIGINT}), 422, name))
        if endpoint.query_schema is not None:
            for name, fld in loadable_fields(endpoint.query_schema).items():
                if isinstance(fld, ma.fields.Integer):
                    sweep.run_case(endpoint, path, Case(f"query {name}=2**63",
                                                        dict(query_string={name: str(BEYOND_BIGINT)}), 422, name))
        if endpoint.paginated:
            for page in (BEYOND_BIGINT, 2 ** 62):
                response = sweep.send(endpoint.method, path, headers=world.bearer(endpoint.role),
                                      query_string={"page": str(page)})
                if response.status_code != 200 or response.get_json() != []:
                    sweep.problems.append(f"{endpoint.label} with page={page}: {response.status_code} "
                                          f"{response.get_data(as_text=True)[:200]}, expected an empty 200")
                sweep.expect_no_change(f"{endpoint.label} with page={page}")
        for name in endpoint.path_params:
            if name.endswith("_id"):
                response = sweep.send(endpoint.method, build_path(world, endpoint, **{name: BEYOND_BIGINT}),
                                      headers=world.bearer(endpoint.role),
                                      **({"json": example_body(world, endpoint)} if endpoint.body_schema else {}))
                sweep.expect(f"{endpoint.label} with <{name}> = 2**63", response, 404)
    sweep.assert_clean()
