"""Response bodies of the media API, and the query of a signed URL. Instants in the tenant's zone."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.rosters.schemas import TenantDateTime

UPLOAD_REQUEST_BODY = {
    "required": True,
    "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["id", "file"], "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The id the phone gave this photo; "
                                                                       "a retry sends the same id"},
            "instruction_id": {"type": "integer", "description": "The instruction the photo belongs to (optional: "
                                                                 "feedback may name the photo instead)"},
            "file": {"type": "string", "format": "binary",
                     "description": "JPEG, PNG, WebP or HEIC/HEIF; decided by decoding, not by name or type"},
        }},
        "encoding": {"file": {"contentType": "image/jpeg, image/png, image/webp, image/heic, image/heif"}},
    }},
}


class EvidenceOut(ma.Schema):
    taken_at = TenantDateTime(allow_none=True, metadata={"description": "EXIF capture time"})
    latitude = ma.fields.Float(allow_none=True, metadata={"description": "EXIF GPS latitude"})
    longitude = ma.fields.Float(allow_none=True, metadata={"description": "EXIF GPS longitude"})
    device_make = ma.fields.String(allow_none=True)
    device_model = ma.fields.String(allow_none=True)
    orientation = ma.fields.Integer(allow_none=True, metadata={"description": "EXIF orientation (1-8), applied"})
    capture_offset_minutes = ma.fields.Float(allow_none=True, metadata={
        "description": "Capture time minus the time of the feedback naming the photo"})
    distance_from_incident_m = ma.fields.Integer(allow_none=True, metadata={
        "description": "From the EXIF position to the incident's position"})


class MediaOut(ma.Schema):
    id = ma.fields.UUID()
    sha256 = ma.fields.String()
    size_bytes = ma.fields.Integer()
    format = ma.fields.String(metadata={"description": "jpeg, png, webp or heif, as decoded"})
    content_type = ma.fields.String()
    width = ma.fields.Integer(metadata={"description": "As displayed (orientation applied)"})
    height = ma.fields.Integer()
    instruction_id = ma.fields.Integer(allow_none=True)
    feedback_id = ma.fields.Integer(allow_none=True, metadata={"description": "The first feedback naming it"})
    uploaded_at = TenantDateTime()
    uploaded_by_user_id = ma.fields.Integer(allow_none=True)
    filename = ma.fields.String(allow_none=True, metadata={"description": "The phone's file name, as a label"})
    state = ma.fields.String(metadata={"description": "pending, ready or failed: the served copies"})
    is_original_kept = ma.fields.Boolean()
    evidence = ma.fields.Nested(EvidenceOut)
    flags = ma.fields.List(ma.fields.String(), metadata={
        "description": "capture_time_far_from_feedback, gps_far_from_incident"})
    urls = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={
        "description": "Signed URLs for <img> tags (display, thumbnail; original where allowed)"})
    urls_expire_at = ma.fields.Integer(metadata={"description": "Unix time the signed URLs expire"})


class UsageOut(ma.Schema):
    tenant_code = ma.fields.String()
    tenant_name = ma.fields.String()
    items = ma.fields.Integer(metadata={"description": "Uploaded photos"})
    contents = ma.fields.Integer(metadata={"description": "Distinct contents stored (by sha256)"})
    original_bytes = ma.fields.Integer()
    derived_bytes = ma.fields.Integer(metadata={"description": "Display copies and thumbnails"})
    stored_bytes = ma.fields.Integer()
    uploaded_bytes = ma.fields.Integer(metadata={"description": "What the uploads would take without deduplication"})
    saved_by_deduplication_bytes = ma.fields.Integer()
    pending = ma.fields.Integer()
    failed = ma.fields.Integer()
    originals_deleted = ma.fields.Integer(metadata={"description": "Originals removed by the retention policy"})
    original_retention_days = ma.fields.Integer(allow_none=True)
    storage = ma.fields.String(metadata={"description": "local or s3"})


class SignedArgs(ma.Schema):
    expires = ma.fields.Integer(load_default=None, strict=False, validate=validate.Range(0, 2 ** 40))
    signature = ma.fields.String(load_default=None, validate=validate.Length(max=100))
