"""The dispatch catalogue (派单目录): /api/v1/t/<tenant_code>/categories."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.catalogue import service
from app.blueprints.catalogue.schemas import CategoryCreateIn, CategoryListArgs, CategoryOut, CategoryUpdateIn
from app.common.authz import requires
from app.common.roles import TENANT_ROLES, Role

blp = Blueprint("categories", __name__, url_prefix="/api/v1/t/<tenant_code>/categories",
                description="Dispatch catalogue (派单目录): categories, their units and routes")

READERS = (*TENANT_ROLES, Role.PROVINCIAL_SUPERVISOR)


@blp.route("")
class Categories(MethodView):
    @requires(*READERS)
    @blp.arguments(CategoryListArgs, location="query")
    @blp.response(200, CategoryOut(many=True))
    @blp.paginate(max_page_size=500)
    def get(self, args, tenant_code, pagination_parameters):
        """The catalogue, in display order; filter by level, parent, unit, route, severity, text."""
        return service.list_categories(pagination=pagination_parameters, **args)

    @requires(Role.TENANT_ADMIN)
    @blp.arguments(CategoryCreateIn)
    @blp.response(201, CategoryOut)
    @blp.alt_response(409, description="Code or name in use (`category_code_taken`, `category_name_taken`)")
    def post(self, body, tenant_code):
        """Add a category (linkage office). Level-2 categories need a lead unit of this district."""
        return service.create_category(tenant_id=g.tenant.id, actor=current_user, **body)


@blp.route("/<int:category_id>")
class CategoryById(MethodView):
    @requires(*READERS)
    @blp.response(200, CategoryOut)
    def get(self, tenant_code, category_id):
        """One category."""
        return service.get_category(category_id=category_id)

    @requires(Role.TENANT_ADMIN)
    @blp.arguments(CategoryUpdateIn)
    @blp.response(200, CategoryOut)
    def patch(self, body, tenant_code, category_id):
        """Change a category; lists (assisting units, responsibilities) are replaced whole."""
        return service.update_category(category_id=category_id, actor=current_user, changes=body)
