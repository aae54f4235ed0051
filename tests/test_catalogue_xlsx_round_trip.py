"""Round trip: an exported workbook, imported unchanged, reproduces the catalogue and changes nothing at home."""
from __future__ import annotations

from tests.factories import auth, database_snapshot, snapshot_difference
from tests.test_catalogue_xlsx_support import (catalogue_dump, export, office, upload,  # noqa: F401
                                               without_audit)


def counts(sql, tenant_id: int) -> dict:
    units = sql("SELECT count(*) FROM units WHERE tenant_id = :t", t=tenant_id)[0][0]
    categories = sql("SELECT count(*) FROM categories WHERE tenant_id = :t", t=tenant_id)[0][0]
    return {"units": units, "categories": categories}


def test_importing_the_export_into_an_empty_district_reproduces_the_catalogue(client, office, factory, sql):
    tenant, headers = office
    content = export(client, headers, "620602")
    empty = factory.tenant("620102", "城关区", template=None)
    other_office = auth(client, factory.user(empty, "tenant_admin"))

    response = upload(client, other_office, "620102", content)

    assert response.status_code == 200, response.get_json()
    source = counts(sql, tenant.id)
    assert response.get_json() == {"dry_run": False, "units_created": source["units"], "units_updated": 0,
                                   "categories_created": source["categories"], "categories_updated": 0}
    assert catalogue_dump(sql, empty.id) == catalogue_dump(sql, tenant.id)


def test_importing_the_export_into_a_district_with_the_same_units_reproduces_the_catalogue(
        client, office, factory, sql):
    tenant, headers = office
    content = export(client, headers, "620602")
    twin = factory.tenant("620621", "民勤县")  # the Liangzhou template: the same units, not our additions
    twin_office = auth(client, factory.user(twin, "tenant_admin"))
    twin_units = counts(sql, twin.id)["units"]

    response = upload(client, twin_office, "620621", content)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["units_updated"] == twin_units
    assert body["units_created"] == counts(sql, tenant.id)["units"] - twin_units
    assert catalogue_dump(sql, twin.id) == catalogue_dump(sql, tenant.id)


def test_importing_the_export_into_its_own_district_changes_nothing(client, office, owner_engine, sql):
    tenant, headers = office
    content = export(client, headers, "620602")
    before = database_snapshot(owner_engine)
    last_seq = sql("SELECT max(seq) FROM audit_events WHERE tenant_id = :t", t=tenant.id)[0][0]

    response = upload(client, headers, "620602", content)

    assert response.status_code == 200, response.get_json()
    stored = counts(sql, tenant.id)
    assert response.get_json() == {"dry_run": False, "units_created": 0, "units_updated": stored["units"],
                                   "categories_created": 0, "categories_updated": stored["categories"]}
    after = database_snapshot(owner_engine)
    assert without_audit(after) == without_audit(before), snapshot_difference(before, after)
    new_events = sql("SELECT action, after FROM audit_events WHERE tenant_id = :t AND seq > :s",
                     t=tenant.id, s=last_seq)
    assert [event.action for event in new_events] == ["catalogue.imported"]
    assert new_events[0].after["units_updated"] == stored["units"]
    assert len(new_events[0].after["file_sha256"]) == 64
