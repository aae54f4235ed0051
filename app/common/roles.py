"""The roles of design.md section 8, and which of them live inside a tenant."""
from __future__ import annotations

import enum


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"              # runs the platform, manages tenants
    PROVINCIAL_SUPERVISOR = "provincial_supervisor"  # reads every tenant of one province
    TENANT_ADMIN = "tenant_admin"                  # linkage office (联动办公室)
    DISPATCHER = "dispatcher"                      # 110 desk (报警服务台)
    LEADER = "leader"                              # district leadership group (领导小组)
    UNIT_LIAISON = "unit_liaison"                  # a unit's liaison (联络员)
    UNIT_LEADER = "unit_leader"                    # a unit's leader in charge (分管负责人)
    RESPONDER = "responder"                        # field responder of a unit


TENANT_ROLES = frozenset({Role.TENANT_ADMIN, Role.DISPATCHER, Role.LEADER,
                          Role.UNIT_LIAISON, Role.UNIT_LEADER, Role.RESPONDER})
UNIT_ROLES = frozenset({Role.UNIT_LIAISON, Role.UNIT_LEADER, Role.RESPONDER})
ALL_ROLES = frozenset(Role)
