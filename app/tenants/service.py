"""Provisioning and changing tenants (districts)."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.blueprints.audit import service as audit
from app.database import flush_unique
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.tenants.context import narrow
from app.tenants.models import Tenant, TenantStatus, province_of
from app.tenants.provisioning import provision_defaults
from app.tenants.templates import TEMPLATES

_PUBLIC_FIELDS = ("code", "name", "province_code", "time_zone", "status", "settings")


def snapshot(tenant: Tenant) -> dict:
    return {field: getattr(tenant, field) for field in _PUBLIC_FIELDS}


def _check_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable("unknown_time_zone", f"Unknown time zone {name!r}.",
                            errors={"time_zone": ["Unknown IANA time zone."]}) from None


def create_tenant(*, code: str, name: str, actor=None, province_code: str | None = None,
                  time_zone: str = "Asia/Shanghai", template: str | None = None,
                  settings: dict | None = None) -> Tenant:
    if template is not None and template not in TEMPLATES:
        raise Unprocessable("unknown_template", f"Unknown template {template!r}.",
                            errors={"template": [f"One of: {', '.join(sorted(TEMPLATES))}."]})
    _check_time_zone(time_zone)
    tenant = Tenant(code=code, name=name, province_code=province_code or province_of(code),
                    time_zone=time_zone, status=TenantStatus.ACTIVE.value, settings=settings or {})
    flush_unique(tenant, {"uq_tenants_code": lambda: Conflict("tenant_exists",
                                                              f"A tenant with code {code} exists.")})
    # From here on this transaction acts inside the new tenant.
    narrow(tenant_ids=frozenset({tenant.id}))
    provision_defaults(tenant)
    if template is not None:
        TEMPLATES[template](tenant)
    audit.record("tenant.created", tenant_id=None, actor=actor, target_type="tenant",
                 target_id=tenant.code, after={**snapshot(tenant), "template": template})
    audit.record("tenant.created", tenant_id=tenant.id, actor=actor, target_type="tenant",
                 target_id=tenant.code, after={**snapshot(tenant), "template": template})
    db.session.commit()
    return tenant


def merge_patch(current: dict, patch: dict) -> dict:
    """JSON merge patch (RFC 7396), one level: given keys are set, keys given as null removed."""
    merged = dict(current or {})
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _tenants_query(province_code: str | None):
    statement = select(Tenant).order_by(Tenant.code)
    if province_code is not None:
        statement = statement.where(Tenant.province_code == province_code)
    return statement


def list_tenants(*, province_code: str | None = None) -> list[Tenant]:
    return list(db.session.execute(_tenants_query(province_code)).scalars())


def page_tenants(*, pagination, province_code: str | None = None) -> list[Tenant]:
    from app.common.listing import paginate

    return paginate(_tenants_query(province_code), pagination)


def get_tenant(code: str) -> Tenant:
    tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
    if tenant is None:
        raise NotFound("tenant_not_found", "The tenant does not exist.")
    return tenant


def update_tenant(*, tenant: Tenant, actor, changes: dict) -> Tenant:
    # A platform admin acts outside every tenant; the change is written to this tenant's chain.
    narrow(tenant_ids=frozenset({tenant.id}))
    before = snapshot(tenant)
    if "time_zone" in changes:
        _check_time_zone(changes["time_zone"])
    if "settings" in changes:
        changes = {**changes, "settings": merge_patch(tenant.settings, changes["settings"])}
    for field, value in changes.items():
        setattr(tenant, field, value)
    after = snapshot(tenant)
    if after != before:
        # Tenant changes land on the tenant's own chain, and status changes on the platform's too.
        audit.record("tenant.updated", tenant_id=tenant.id, actor=actor, target_type="tenant",
                     target_id=tenant.code, before=before, after=after)
        if before["status"] != after["status"]:
            audit.record("tenant.updated", tenant_id=None, actor=actor, target_type="tenant",
                         target_id=tenant.code, before=before, after=after)
    db.session.commit()
    return tenant
