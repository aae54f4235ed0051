"""Every mapped model, imported in one place for Alembic and the app factory."""
from app.blueprints.audit.models import (AuditChainHead, AuditEvent, PlatformAuditEvent,  # noqa: F401
                                         PlatformAuditHead)
from app.blueprints.auth.models import TokenFamily  # noqa: F401
from app.blueprints.catalogue.models import Category, CategoryAssist, CategoryResponsibility  # noqa: F401
from app.blueprints.notifications.models import Notification  # noqa: F401
from app.blueprints.units.models import Responsibility, Unit, UnitContactChange  # noqa: F401
from app.blueprints.users.models import User  # noqa: F401
from app.common.idempotency import IdempotencyKey  # noqa: F401
from app.tenants.models import Tenant  # noqa: F401
from app.blueprints.timelimits.models import EscalationStep, TimeLimitDefault  # noqa: F401
from app.blueprints.routing.models import RoutingExample, RoutingModel  # noqa: F401
from app.blueprints.rosters.models import RosterOverride, RosterPattern, RosterPatternSlot  # noqa: F401
from app.blueprints.incidents.models import Incident, IncidentCall, IncidentCounter  # noqa: F401
from app.blueprints.instructions.models import (Extension, Feedback, Instruction, InstructionResponder,  # noqa: F401
                                                TimelineEvent)
from app.blueprints.media.models import MediaBlob, MediaItem  # noqa: F401
from app.blueprints.notifications.models import Endpoint  # noqa: F401,E402
from app.blueprints.reminders.models import Timer  # noqa: F401,E402
