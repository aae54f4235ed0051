"""Each user's in-app inbox: /api/v1/t/<tenant_code>/inbox."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.notifications import service
from app.blueprints.notifications.schemas import InboxArgs, MarkedOut, NotificationOut
from app.common.authz import requires
from app.common.roles import TENANT_ROLES

blp = Blueprint("inbox", __name__, url_prefix="/api/v1/t/<tenant_code>/inbox",
                description="In-app messages (站内消息) for the logged-in user")


@blp.route("")
class Inbox(MethodView):
    @requires(*TENANT_ROLES)
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, NotificationOut(many=True))
    @blp.paginate()
    def get(self, args, tenant_code, pagination_parameters):
        """My messages, newest first."""
        return service.inbox(user=current_user, pagination=pagination_parameters, **args)


@blp.route("/<int:notification_id>/read")
class ReadOne(MethodView):
    @requires(*TENANT_ROLES)
    @blp.response(200, NotificationOut)
    def post(self, tenant_code, notification_id):
        """Mark one of my messages read."""
        return service.mark_read(user=current_user, notification_id=notification_id)


@blp.route("/read-all")
class ReadAll(MethodView):
    @requires(*TENANT_ROLES)
    @blp.response(200, MarkedOut)
    def post(self, tenant_code):
        """Mark all my messages read."""
        return {"marked": service.mark_all_read(user=current_user)}
