"""Media API: photos from the scene (现场照片).

- POST /api/v1/t/<tenant_code>/media: multipart upload (`id`, `file`, optional `instruction_id`),
  `Idempotency-Key` accepted; 201 with size, dimensions, sha256 and the EXIF evidence.
- GET  /api/v1/t/<tenant_code>/media/<id>[/display|/thumbnail|/original]: the record or a copy,
  checked by tenant and role; originals only for the desk, the office and units on the incident.
- GET  /api/v1/media-signed/<tenant_code>/<id>/<variant>?expires=&signature=: the same copies
  behind a short-lived HMAC signature, for <img> tags.
"""
from __future__ import annotations

import time

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.media import serving, service
from app.blueprints.media.idempotency import records_outcome
from app.blueprints.media.schemas import UPLOAD_REQUEST_BODY, MediaOut, SignedArgs, UsageOut
from app.blueprints.media.signing import PREFIX as SIGNED_PREFIX
from app.common.authz import public, requires
from app.common.roles import TENANT_ROLES, Role

blp = Blueprint("media", __name__, url_prefix="/api/v1/t/<tenant_code>",
                description="Photos from the scene (现场照片): upload, evidence metadata, serving")
signed = Blueprint("media_signed", __name__, url_prefix=SIGNED_PREFIX,
                   description="Signed photo URLs for <img> tags (no Authorization header)")

READERS = (*sorted(TENANT_ROLES), Role.PROVINCIAL_SUPERVISOR)
UPLOADERS = (Role.DISPATCHER, Role.TENANT_ADMIN, Role.UNIT_LIAISON, Role.UNIT_LEADER, Role.RESPONDER)
ORIGINAL_READERS = UPLOADERS  # the units among them only on their incidents (403 media_not_visible)
ONE = "/media/<uuid:media_id>"


@blp.route("/media")
class Upload(MethodView):
    @records_outcome
    @requires(*UPLOADERS)
    @blp.doc(requestBody=UPLOAD_REQUEST_BODY)
    @blp.response(201, MediaOut)
    @blp.alt_response(409, description="Id used for another file (`media_id_taken`), instruction full "
                                       "(`media_limit_reached`)")
    @blp.alt_response(413, description="Larger than MEDIA_MAX_BYTES (`media_too_large`)")
    @blp.alt_response(415, description="Not multipart (`multipart_required`), not JPEG/PNG/WebP/HEIF "
                                       "(`media_unsupported_type`)")
    @blp.alt_response(422, description="`media_empty`, `media_corrupt`, `media_too_many_pixels`, "
                                       "`media_polyglot`, `instruction_not_found`, `validation_error`")
    def post(self, tenant_code):
        """Upload a photo (上传照片) under the phone's own id; a retry with the same id answers the same item.

        Streamed to disk, decided by decoding. Nothing is stored when it is refused. Small photos come
        back `ready`; larger ones are `pending` until the `media` worker has made their copies.
        """
        return service.upload(actor=current_user, tenant=g.tenant)


@blp.route("/media/usage")
class Usage(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.response(200, UsageOut)
    def get(self, tenant_code):
        """The district's media storage: items, distinct contents, bytes, deduplication, retention."""
        return service.usage(tenant=g.tenant)


@blp.route(ONE)
class MediaById(MethodView):
    @requires(*READERS)
    @blp.response(200, MediaOut)
    def get(self, tenant_code, media_id):
        """One photo's record: evidence (EXIF time, GPS, device), flags, and fresh signed URLs."""
        return service.get(media_id=media_id, actor=current_user, tenant_code=tenant_code)


def _copy_view(name: str, variant: str, roles, doc: str):
    @requires(*roles)
    @blp.response(200, description=f"The {variant} image", content_type="image/*")
    def get(self, tenant_code, media_id):
        return serving.send(service.open_variant(media_id=media_id, actor=current_user, variant=variant))

    get.__doc__ = doc
    return type(name, (MethodView,), {"get": get})


for _variant, _name, _roles, _doc in (
        ("display", "MediaDisplay", READERS, "The display copy (≤ MEDIA_DISPLAY_PX, EXIF removed); immutable."),
        ("thumbnail", "MediaThumbnail", READERS, "The thumbnail (≤ MEDIA_THUMBNAIL_PX, EXIF removed); immutable."),
        ("original", "MediaOriginal", ORIGINAL_READERS,
         "The original as uploaded, EXIF and all: the desk, the office, and units on the incident.")):
    blp.route(f"{ONE}/{_variant}", endpoint=_name)(_copy_view(_name, _variant, _roles, _doc))


@blp.route("/instructions/<int:instruction_id>/media")
class InstructionMedia(MethodView):
    @requires(*READERS)
    @blp.response(200, MediaOut(many=True))
    def get(self, tenant_code, instruction_id):
        """The photos of an instruction: attached at upload, or named by its feedback."""
        return service.list_for_instruction(instruction_id=instruction_id, actor=current_user,
                                            tenant_code=tenant_code)


def _signed_view(name: str, variant: str):
    @public
    @signed.arguments(SignedArgs, location="query")
    @signed.response(200, description=f"The {variant} image", content_type="image/*")
    def get(self, args, tenant_code, media_id):
        stored = service.open_signed(tenant_code=tenant_code, media_id=media_id, variant=variant, **args)
        return serving.send(stored, max_age=int(args["expires"] - time.time()))

    get.__doc__ = f"The {variant} copy behind a signed URL (from the photo's `urls`); 404 if tampered, 403 if expired."
    return type(name, (MethodView,), {"get": get})


for _variant in ("display", "thumbnail", "original"):
    _name = f"Signed{_variant.title()}"
    signed.route(f"/<tenant_code>/<uuid:media_id>/{_variant}", endpoint=_name)(_signed_view(_name, _variant))
