"""Each user's in-app inbox (/api/v1/t/<tenant_code>/inbox) and the office's view of external
deliveries and where they go (/api/v1/t/<tenant_code>/notifications)."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.blueprints.notifications import service
from app.blueprints.notifications.schemas import (DeliveryArgs, DeliveryOut, EndpointIn, EndpointOut, InboxArgs,
                                                  MarkedOut, NotificationOut, UnreadOut)
from app.common.authz import requires
from app.common.roles import TENANT_ROLES, Role

blp = Blueprint("inbox", __name__, url_prefix="/api/v1/t/<tenant_code>/inbox",
                description="In-app messages (站内消息) for the logged-in user")
office = Blueprint("notifications", __name__, url_prefix="/api/v1/t/<tenant_code>/notifications",
                   description="The office's view of SMS, webhook and e-mail deliveries, and their endpoints")


@blp.route("")
class Inbox(MethodView):
    @requires(*TENANT_ROLES)
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, NotificationOut(many=True))
    @blp.paginate()
    def get(self, args, tenant_code, pagination_parameters):
        """My messages, newest first."""
        return service.inbox(user=current_user, pagination=pagination_parameters, **args)


@blp.route("/unread-count")
class UnreadCount(MethodView):
    @requires(*TENANT_ROLES)
    @blp.response(200, UnreadOut)
    def get(self, tenant_code):
        """How many of my messages are unread (for the badge)."""
        return {"unread": service.unread_count(user=current_user)}


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


@office.route("/deliveries")
class Deliveries(MethodView):
    @requires(Role.TENANT_ADMIN, Role.DISPATCHER)
    @office.arguments(DeliveryArgs, location="query")
    @office.response(200, DeliveryOut(many=True))
    @office.paginate()
    def get(self, args, tenant_code, pagination_parameters):
        """SMS, webhook and e-mail deliveries, newest first; `state=failed` lists what did not go out."""
        return service.deliveries(pagination=pagination_parameters, **args)


@office.route("/deliveries/<int:notification_id>/retry")
class RetryDelivery(MethodView):
    @requires(Role.TENANT_ADMIN)
    @office.response(200, DeliveryOut)
    def post(self, tenant_code, notification_id):
        """Send a failed delivery again (a fresh round of attempts). Anything not failed: 409 `delivery_not_failed`."""
        return service.retry(notification_id=notification_id, actor=current_user)


@office.route("/endpoints")
class Endpoints(MethodView):
    @requires(Role.TENANT_ADMIN)
    @office.response(200, EndpointOut(many=True))
    def get(self, tenant_code):
        """Where the external channels deliver: the SMS gateway, unit webhooks, mailboxes. Secrets are not shown."""
        return service.endpoints(tenant_id=g.tenant.id)

    @requires(Role.TENANT_ADMIN)
    @office.arguments(EndpointIn)
    @office.response(200, EndpointOut)
    def put(self, body, tenant_code):
        """Set one endpoint (by channel and unit): the SMS gateway, a unit's signed webhook, a mailbox."""
        return service.put_endpoint(tenant_id=g.tenant.id, actor=current_user, **body)
