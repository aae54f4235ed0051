"""Media: accepting an upload, who may see which copy, and reading them back; each write in one transaction.

An upload is streamed to disk (intake), decided by decoding (validation), then stored once per
tenant and sha256 (storage) with its item row in one transaction; the served copies are made
after commit, at once for small photos, else on the `media` queue (processing, jobs).
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select, text

from app.blueprints.instructions.models import Feedback, Instruction
from app.blueprints.media import evidence, idempotency, intake, signing, validation
from app.blueprints.media.models import MediaBlob, MediaItem, ProcessingState
from app.blueprints.media.processing import DERIVED_CONTENT_TYPES, process_blob
from app.blueprints.media.storage import get_storage, keys, settings, temp_dir
from app.common.models import utcnow
from app.common.roles import UNIT_ROLES, Role
from app.database import unit_of_work
from app.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

SEE_ALL = (Role.DISPATCHER, Role.TENANT_ADMIN, Role.LEADER, Role.PROVINCIAL_SUPERVISOR)
SEE_ALL_ORIGINALS = (Role.DISPATCHER, Role.TENANT_ADMIN)


class Gone(DomainError):
    status = 410
    default_code = "gone"


# ---------------------------------------------------------------- upload

def upload(*, actor, tenant: Tenant):
    """Accept one photo under the phone's id. A retry with the same id and content answers the same item."""
    s = settings()
    # Reading the body may take minutes on a rural network: hold no transaction open meanwhile.
    tenant_id, tenant_code, time_zone = tenant.id, tenant.code, tenant.time_zone
    db.session.rollback()
    key = idempotency.key_of_request()
    received = intake.receive(max_bytes=s.media_max_bytes, temp_dir=temp_dir())
    try:
        media_id, instruction_id = _fields(received.fields)
        # Decoding may take seconds: before the transaction, so no pooled connection or advisory lock
        # (on the id, the instruction, the content) waits on it. A retry pays the decode again.
        inspected = validation.inspect(received.path, max_pixels=s.media_max_pixels, time_zone=time_zone,
                                       decode_memory_mb=s.media_decode_memory_mb,
                                       decode_concurrency=s.media_decode_concurrency)
        created = False
        with unit_of_work():
            if key is not None:
                replay = idempotency.claim(key, idempotency.fingerprint(
                    media_id=str(media_id), instruction_id=received.fields.get("instruction_id"),
                    sha256=received.sha256))
                if replay is not None:
                    return replay
            _lock("media-id", tenant_id, str(media_id))
            existing = db.session.execute(select(MediaItem).where(MediaItem.id == media_id)).scalar_one_or_none()
            if existing is not None:
                if existing.sha256 != received.sha256 or existing.instruction_id != instruction_id:
                    raise Conflict("media_id_taken", "This id already names another photo; use a new id.",
                                   errors={"id": ["Already used for a different file."]})
                item = existing  # a retry whose first answer was lost
                _blob_for(tenant_id, received, inspected)  # referenced again (retention), original restored
            else:
                if instruction_id is not None:
                    _check_instruction(instruction_id, media_id, actor, s.media_max_per_instruction, tenant_id)
                item = _store(tenant_id, media_id, instruction_id, actor, received, inspected)
                created = True
        blob = db.session.get(MediaBlob, (tenant_id, item.sha256))
        if created and blob.state == ProcessingState.PENDING:
            _process_soon(tenant_id, blob.sha256, inspected.pixels <= s.media_sync_max_pixels)
            db.session.refresh(blob)
        return present(item, blob, actor=actor, tenant_code=tenant_code), 201
    finally:
        received.discard()


def _fields(fields: dict[str, str]) -> tuple[uuid.UUID, int | None]:
    errors = {}
    try:
        media_id = uuid.UUID(fields.get("id", ""))
    except ValueError:
        media_id = None
        errors["id"] = ["Required: the UUID the phone gave this photo."]
    instruction_id = None
    raw = fields.get("instruction_id")
    if raw not in (None, ""):
        if raw.isdigit() and 0 < int(raw) < 2 ** 63:
            instruction_id = int(raw)
        else:
            errors["instruction_id"] = ["Not an instruction id."]
    if errors:
        raise Unprocessable("validation_error", "The upload's fields are invalid.", errors=errors)
    return media_id, instruction_id


def _lock(kind: str, tenant_id: int, value: str) -> None:
    lock_id = int.from_bytes(hashlib.sha256(f"{kind}:{tenant_id}:{value}".encode()).digest()[:8], "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _check_instruction(instruction_id: int, media_id: uuid.UUID, actor, cap: int, tenant_id: int) -> None:
    instruction = db.session.execute(select(Instruction).where(Instruction.id == instruction_id)).scalar_one_or_none()
    if instruction is None:
        raise Unprocessable("instruction_not_found", "No such instruction.",
                            errors={"instruction_id": ["No such instruction in this district."]})
    if not actor.has_role(*SEE_ALL_ORIGINALS) and actor.unit_id != instruction.unit_id:
        raise Forbidden("not_your_unit", "This instruction is for another unit.")
    check_attachable(instruction_id, [media_id], cap=cap, tenant_id=tenant_id)


def instruction_media_ids(instruction_id: int) -> set[uuid.UUID]:
    """The photo ids an instruction counts: attached at upload, or named by its feedback (uploaded or not)."""
    attached = db.session.execute(select(MediaItem.id).where(MediaItem.instruction_id == instruction_id)).scalars()
    named = db.session.execute(select(func.unnest(Feedback.media_ids))
                               .where(Feedback.instruction_id == instruction_id)).scalars()
    return set(attached) | set(named)


def check_attachable(instruction_id: int, media_ids, *, cap: int | None = None, tenant_id: int | None = None) -> None:
    """Refuse (409 media_limit_reached) when attaching `media_ids` to the instruction would take it over
    MEDIA_MAX_PER_INSTRUCTION photos: those attached at upload and those named by its feedback count,
    each id once. Call it inside the transaction that attaches them (the upload, and the feedback that
    names photos): it takes the instruction's media lock, held until that transaction ends, so two
    concurrent attachments cannot both pass."""
    cap = settings().media_max_per_instruction if cap is None else cap
    if tenant_id is None:
        tenant_id = db.session.execute(select(Instruction.tenant_id)
                                       .where(Instruction.id == instruction_id)).scalar_one_or_none()
        if tenant_id is None:
            raise Unprocessable("instruction_not_found", "No such instruction.",
                                errors={"instruction_id": ["No such instruction in this district."]})
    _lock("media-instruction", tenant_id, str(instruction_id))
    counted = instruction_media_ids(instruction_id)
    wanted = counted | {uuid.UUID(str(media_id)) for media_id in media_ids}
    if len(wanted) > cap:
        message = (f"This instruction already has {len(counted)} photos; {len(wanted) - len(counted)} more would "
                   f"pass the {cap} accepted.")
        raise Conflict("media_limit_reached", message,
                       errors={"instruction_id": [f"At most {cap} photos per instruction."]})


def _blob_for(tenant_id: int, received, inspected) -> tuple[MediaBlob, bool]:
    """The content's blob, locked (FOR UPDATE: the retention sweep skips it, or has finished with it),
    created or with its original restored if needed, and marked as referenced now. (blob, stored_now)."""
    _lock("media-sha256", tenant_id, received.sha256)
    blob = db.session.execute(select(MediaBlob).where(
        MediaBlob.tenant_id == tenant_id, MediaBlob.sha256 == received.sha256)
        .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
    storage = get_storage()
    original_key = keys.original(tenant_id, received.sha256)
    stored_now = False
    if blob is None or blob.original_deleted_at is not None:
        storage.put_file(original_key, received.path, inspected.content_type)
        stored_now = blob is None
    try:
        now = utcnow()
        if blob is None:
            blob = MediaBlob(tenant_id=tenant_id, sha256=received.sha256, size_bytes=received.size,
                             format=inspected.format.value, width=inspected.width, height=inspected.height,
                             orientation=inspected.orientation, taken_at=inspected.taken_at,
                             gps_latitude=inspected.gps_latitude, gps_longitude=inspected.gps_longitude,
                             device_make=inspected.device_make, device_model=inspected.device_model,
                             state=ProcessingState.PENDING.value, attempts=0, storage_errors=0, created_at=now,
                             last_referenced_at=now, enqueued_at=now)
            db.session.add(blob)
        else:
            blob.original_deleted_at = None
            blob.last_referenced_at = now
        db.session.flush()
    except BaseException:
        if stored_now:  # we hold the sha256 lock and no row names the object: it is ours to remove
            storage.delete(original_key)
        raise
    return blob, stored_now


def _store(tenant_id, media_id, instruction_id, actor, received, inspected) -> MediaItem:
    _blob, stored_now = _blob_for(tenant_id, received, inspected)
    try:
        item = MediaItem(tenant_id=tenant_id, id=media_id, sha256=received.sha256, instruction_id=instruction_id,
                         uploaded_by_user_id=actor.id, uploaded_at=utcnow(), client_filename=received.filename,
                         declared_type=received.declared_type, flags=[])
        db.session.add(item)
        db.session.flush()
    except BaseException:
        if stored_now:
            get_storage().delete(keys.original(tenant_id, received.sha256))
        raise
    return item


def _process_soon(tenant_id: int, sha256: str, synchronously: bool) -> None:
    """Small photos now, in this request; others on the `media` queue. A lost job is re-queued by the sweep."""
    if synchronously:
        process_blob(tenant_id=tenant_id, sha256=sha256)
        return
    from app.blueprints.media.jobs import enqueue

    enqueue(tenant_id, sha256)


# ---------------------------------------------------------------- reading

def _item_and_blob(media_id: uuid.UUID) -> tuple[MediaItem, MediaBlob]:
    row = db.session.execute(select(MediaItem, MediaBlob).join(
        MediaBlob, (MediaBlob.tenant_id == MediaItem.tenant_id) & (MediaBlob.sha256 == MediaItem.sha256))
        .where(MediaItem.id == media_id)).first()
    if row is None:
        raise NotFound("media_not_found", "No such photo.")
    return row[0], row[1]


def _unit_holds_incident(item: MediaItem, unit_id: int | None) -> bool:
    incident = evidence.incident_of(evidence.instruction_id_of(item))
    if incident is None or unit_id is None:
        return False
    return db.session.execute(select(Instruction.id).where(
        Instruction.incident_id == incident.id, Instruction.unit_id == unit_id,
        Instruction.state != "returned").limit(1)).first() is not None


def may_see(item: MediaItem, actor, *, original: bool = False) -> bool:
    """Copies: the desk, office, leaders and supervisors; originals: the desk and the office. Beyond
    them, a unit's users see the photos of incidents their unit holds an instruction on, and their own."""
    if actor.has_role(*(SEE_ALL_ORIGINALS if original else SEE_ALL)):
        return True
    if not actor.has_role(*UNIT_ROLES):
        return False
    return item.uploaded_by_user_id == actor.id or _unit_holds_incident(item, actor.unit_id)


def _visible(media_id: uuid.UUID, actor, *, original: bool = False) -> tuple[MediaItem, MediaBlob]:
    item, blob = _item_and_blob(media_id)
    if not may_see(item, actor, original=original):
        raise Forbidden("media_not_visible", "This photo belongs to an incident your unit is not on."
                        if not original else "Only the desk, the office and units on the incident see originals.")
    return item, blob


def present(item: MediaItem, blob: MediaBlob, *, actor, tenant_code: str) -> dict:
    s = settings()
    found = evidence.evaluate(item, blob, skew_minutes=s.media_capture_skew_minutes,
                              max_distance_m=s.media_gps_distance_m)
    variants = ["display", "thumbnail"] + (["original"] if may_see(item, actor, original=True) else [])
    urls = {variant: signing.sign(tenant_code, item.id, variant) for variant in variants}
    return {
        "id": item.id, "sha256": blob.sha256, "size_bytes": blob.size_bytes, "format": blob.format,
        "content_type": validation.CONTENT_TYPES[validation.MediaFormat(blob.format)],
        "width": blob.width, "height": blob.height, "instruction_id": found.instruction_id,
        "feedback_id": found.feedback_id, "uploaded_at": item.uploaded_at,
        "uploaded_by_user_id": item.uploaded_by_user_id, "filename": item.client_filename,
        "state": blob.state, "is_original_kept": blob.original_deleted_at is None,
        "evidence": {"taken_at": blob.taken_at, "latitude": blob.gps_latitude, "longitude": blob.gps_longitude,
                     "device_make": blob.device_make, "device_model": blob.device_model,
                     "orientation": blob.orientation, "capture_offset_minutes": found.capture_offset_minutes,
                     "distance_from_incident_m": found.distance_from_incident_m},
        "flags": found.flags,
        "urls": {variant: signed.url for variant, signed in urls.items()},
        "urls_expire_at": min(signed.expires for signed in urls.values()),
    }


def get(*, media_id: uuid.UUID, actor, tenant_code: str) -> dict:
    item, blob = _visible(media_id, actor)
    return present(item, blob, actor=actor, tenant_code=tenant_code)


def list_for_instruction(*, instruction_id: int, actor, tenant_code: str) -> list[dict]:
    """The photos of an instruction: attached at upload, or named by its feedback."""
    from app.blueprints.instructions import service as instructions

    instructions.get_instruction(instruction_id=instruction_id, actor=actor)
    named = select(func.unnest(Feedback.media_ids)).where(Feedback.instruction_id == instruction_id)
    rows = db.session.execute(select(MediaItem, MediaBlob).join(
        MediaBlob, (MediaBlob.tenant_id == MediaItem.tenant_id) & (MediaBlob.sha256 == MediaItem.sha256))
        .where(or_(MediaItem.instruction_id == instruction_id, MediaItem.id.in_(named)))
        .order_by(MediaItem.uploaded_at, MediaItem.id)).all()
    return [present(item, blob, actor=actor, tenant_code=tenant_code) for item, blob in rows
            if may_see(item, actor)]


@dataclass(frozen=True)
class Stored:
    """One stored copy to send: where it is, what it is, and how it may be cached."""

    key: str
    content_type: str
    etag: str
    is_original: bool
    media_id: uuid.UUID
    size: int | None


def open_variant(*, media_id: uuid.UUID, actor, variant: str) -> Stored:
    item, blob = _visible(media_id, actor, original=variant == "original")
    return _stored(item, blob, variant)


def _stored(item: MediaItem, blob: MediaBlob, variant: str) -> Stored:
    if variant == "original":
        if blob.original_deleted_at is not None:
            raise Gone("original_expired", "The original was deleted under the retention policy; "
                                           "the display copy remains.")
        return Stored(keys.original(blob.tenant_id, blob.sha256),
                      validation.CONTENT_TYPES[validation.MediaFormat(blob.format)], f'"{blob.sha256}"', True,
                      item.id, blob.size_bytes)
    if blob.state == ProcessingState.FAILED:
        raise Conflict("media_processing_failed", "The copies of this photo could not be made.")
    if blob.state != ProcessingState.READY:
        raise Conflict("media_not_ready", "The photo is still being processed; try again shortly.",
                       headers={"Retry-After": "2"})
    return Stored(keys.derived(blob.tenant_id, blob.sha256, variant, blob.derived_format),
                  DERIVED_CONTENT_TYPES[blob.derived_format], f'"{blob.sha256}-{variant}-{blob.derived_format}"',
                  False, item.id, blob.display_bytes if variant == "display" else blob.thumbnail_bytes)


def open_signed(*, tenant_code: str, media_id: uuid.UUID, variant: str, expires: int | None,
                signature: str | None) -> Stored:
    """A signed URL: the signature is the authority, for this tenant, photo and copy only."""
    signing.verify(tenant_code, media_id, variant, expires, signature)
    tenant = db.session.execute(select(Tenant).where(Tenant.code == tenant_code)).scalar_one_or_none()
    if tenant is None or not tenant.is_active:
        raise NotFound("signed_url_invalid", "This link is not valid.")
    with tenant_scope([tenant.id]):
        item, blob = _item_and_blob(media_id)
        stored = _stored(item, blob, variant)
        db.session.rollback()
    return stored


# ---------------------------------------------------------------- usage

def usage(*, tenant: Tenant) -> dict:
    """What the district stores: items, distinct contents, and bytes by kind (deduplication shown)."""
    blobs = db.session.execute(select(
        func.count(), func.coalesce(func.sum(MediaBlob.size_bytes).filter(MediaBlob.original_deleted_at.is_(None)), 0),
        func.coalesce(func.sum(func.coalesce(MediaBlob.display_bytes, 0) + func.coalesce(MediaBlob.thumbnail_bytes, 0)), 0),
        func.count().filter(MediaBlob.state.in_((ProcessingState.PENDING.value, ProcessingState.PROCESSING.value))),
        func.count().filter(MediaBlob.state == ProcessingState.FAILED.value),
        func.count().filter(MediaBlob.original_deleted_at.is_not(None)),
    )).one()
    items, uploaded_bytes = db.session.execute(select(func.count(), func.coalesce(func.sum(MediaBlob.size_bytes), 0))
                                               .select_from(MediaItem).join(
        MediaBlob, (MediaBlob.tenant_id == MediaItem.tenant_id) & (MediaBlob.sha256 == MediaItem.sha256))).one()
    s = settings()
    return {"tenant_code": tenant.code, "tenant_name": tenant.name, "items": items, "contents": blobs[0],
            "original_bytes": int(blobs[1]), "derived_bytes": int(blobs[2]), "stored_bytes": int(blobs[1] + blobs[2]),
            "uploaded_bytes": int(uploaded_bytes), "saved_by_deduplication_bytes": int(uploaded_bytes) - int(
                db.session.execute(select(func.coalesce(func.sum(MediaBlob.size_bytes), 0))).scalar_one()),
            "pending": blobs[3], "failed": blobs[4], "originals_deleted": blobs[5],
            "original_retention_days": s.media_original_retention_days or None, "storage": get_storage().name}

