"""Units and catalogue as an Excel workbook: /api/v1/t/<tenant_code>/catalogue/export.xlsx and /import."""
from __future__ import annotations

from io import BytesIO
from urllib.parse import quote

from flask import g, request, send_file
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from app.blueprints.transfer import service, xlsx
from app.blueprints.transfer.schemas import ImportArgs, ImportResultOut
from app.common.authz import requires
from app.common.roles import Role
from app.errors import Unprocessable

blp = Blueprint("transfer", __name__, url_prefix="/api/v1/t/<tenant_code>/catalogue",
                description="Units and the dispatch catalogue as an Excel workbook (导入导出)")

# Multipart framing around the file: boundaries, part headers, a small form field or two.
_MULTIPART_OVERHEAD = 64 * 1024

_UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary",
                                "description": "The workbook (.xlsx) as exported; at most 5 MB"}},
    }}},
}


def _uploaded_workbook() -> bytes:
    """The bytes of the multipart field `file`, refused early when the request is too large."""
    request.max_content_length = xlsx.MAX_FILE_BYTES + _MULTIPART_OVERHEAD
    if request.mimetype != "multipart/form-data":
        raise service.UnsupportedMediaType("multipart_required",
                                           "Send the workbook as multipart/form-data in the field `file`.")
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise service.PayloadTooLarge("file_too_large",
                                      f"The workbook is larger than {xlsx.MAX_FILE_BYTES // 2**20} MB.") from None
    if upload is None:
        raise Unprocessable("file_required", "Attach the workbook in the multipart field `file`.",
                            errors={"file": ["Missing data for required field."]})
    return upload.stream.read(xlsx.MAX_FILE_BYTES + 1)


@blp.route("/export.xlsx")
class CatalogueExport(MethodView):
    @requires(Role.TENANT_ADMIN, Role.DISPATCHER, Role.LEADER, Role.PROVINCIAL_SUPERVISOR)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type=xlsx.MIMETYPE,
                  description="Sheets 单位, 职责, 派单目录 and 说明; headers are `<中文> <key>`")
    def get(self, tenant_code):
        """Download the district's units, responsibilities and catalogue as an .xlsx workbook.

        The file is what `POST …/catalogue/import` reads: edit it in Excel and import it back.
        """
        export = service.export_catalogue(tenant=g.tenant)
        response = send_file(BytesIO(export.content), mimetype=xlsx.MIMETYPE, as_attachment=True,
                             download_name=export.filename, max_age=0)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{export.filename}"; '
            f"filename*=UTF-8''{quote(export.display_filename)}")
        response.headers["Cache-Control"] = "no-store"  # contacts and phone numbers
        return response


@blp.route("/import")
class CatalogueImport(MethodView):
    @requires(Role.TENANT_ADMIN)
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, ImportResultOut)
    @blp.alt_response(413, description=f"`file_too_large` (over {xlsx.MAX_FILE_BYTES // 2**20} MB) or "
                                       f"`too_many_rows` (a sheet over {xlsx.MAX_DATA_ROWS} rows)")
    @blp.alt_response(415, description="`multipart_required`, or `not_xlsx`: the file does not open as a workbook")
    @blp.alt_response(422, description="`file_required`, or `import_rejected`: nothing was imported; "
                                       "`errors.rows` lists every problem as {sheet, row, column, code, message}")
    @blp.doc(requestBody=_UPLOAD_BODY)
    def post(self, args, tenant_code):
        """Import units, responsibilities and categories from an .xlsx workbook (linkage office).

        Sheets 单位, 职责 and 派单目录 (any of them; other sheets are ignored). Units are matched by
        name, else short name; categories by code. Matched rows are updated, others created;
        **nothing is ever deleted**: units, responsibilities and categories absent from the file
        stay as they are (deactivate with 启用 = 否). Columns left out of a sheet keep their values.
        Every row is checked with the same rules as the API; if any row fails, nothing is
        imported and the 422 lists all problems. `dry_run=true` checks and counts without writing.
        """
        return service.import_catalogue(tenant=g.tenant, actor=current_user, data=_uploaded_workbook(), **args)
