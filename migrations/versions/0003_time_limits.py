"""Time limits: default limits by duty class and severity, escalation steps; defaults for existing tenants.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 18:10:00
"""
from alembic import op
import sqlalchemy as sa

from app import rls
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("time_limit_defaults", "escalation_steps")

# The defaults as they stood when this migration was written (app/blueprints/timelimits/defaults.py
# may change later; a migration must keep doing what it did). Tenants created from now on get
# theirs from `provision_defaults`; these rows are for the tenants that already exist.
# (duty_class, severity, ack, arrive urban, suburban, rural, resolve_hours, resolve_working_days)
DEFAULT_LIMITS = [
    ("emergency", "general", 10, 45, 60, 90, 24, None),
    ("emergency", "urgent", 5, 30, 45, 60, 8, None),
    ("emergency", "major", 5, 20, 30, 45, 4, None),
    ("standard", "general", 20, 60, 90, 120, None, 5),
    ("standard", "urgent", 15, 45, 60, 90, None, 3),
    ("standard", "major", 10, 30, 45, 60, 24, None),
    ("other", "general", 30, 90, 120, 180, None, 5),
    ("other", "urgent", 20, 60, 90, 120, None, 3),
    ("other", "major", 10, 30, 45, 60, 24, None),
]
_WATCH, _SUPERVISION, _LEADERSHIP = ["liaison", "on_duty"], ["unit_leader", "office"], ["leadership"]
# (clock, step, offset_minutes, recipients)
DEFAULT_STEPS = [
    ("acknowledge", "warning", -5, _WATCH), ("acknowledge", "yellow", 0, _WATCH),
    ("acknowledge", "red", 15, _SUPERVISION), ("acknowledge", "leadership", 30, _LEADERSHIP),
    ("arrive", "warning", -10, _WATCH), ("arrive", "yellow", 0, _WATCH),
    ("arrive", "red", 15, _SUPERVISION), ("arrive", "leadership", 30, _LEADERSHIP),
    ("resolve", "warning", -480, _WATCH), ("resolve", "yellow", 0, _WATCH),
    ("resolve", "red", 480, _SUPERVISION), ("resolve", "leadership", 960, _LEADERSHIP),
]


def _backfill_existing_tenants():
    # Runs before RLS is switched on for the new tables, so a non-superuser owner may insert too.
    connection = op.get_bind()
    for duty_class, severity, ack, urban, suburban, rural, hours, days in DEFAULT_LIMITS:
        connection.execute(sa.text(
            "INSERT INTO time_limit_defaults (tenant_id, duty_class, severity, ack_minutes, arrive_urban_minutes, "
            "arrive_suburban_minutes, arrive_rural_minutes, resolve_hours, resolve_working_days) "
            "SELECT id, :duty_class, :severity, :ack, :urban, :suburban, :rural, :hours, :days FROM tenants"),
            dict(duty_class=duty_class, severity=severity, ack=ack, urban=urban, suburban=suburban, rural=rural,
                 hours=hours, days=days))
    for clock, step, offset, recipients in DEFAULT_STEPS:
        connection.execute(sa.text(
            "INSERT INTO escalation_steps (tenant_id, clock, step, offset_minutes, recipients, is_enabled) "
            "SELECT id, :clock, :step, :offset, CAST(:recipients AS varchar[]), true FROM tenants"),
            dict(clock=clock, step=step, offset=offset, recipients=recipients))


def upgrade():
    op.create_table('time_limit_defaults',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('duty_class', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('ack_minutes', sa.Integer(), nullable=False),
    sa.Column('arrive_urban_minutes', sa.Integer(), nullable=False),
    sa.Column('arrive_suburban_minutes', sa.Integer(), nullable=False),
    sa.Column('arrive_rural_minutes', sa.Integer(), nullable=False),
    sa.Column('resolve_hours', sa.Integer(), nullable=True),
    sa.Column('resolve_working_days', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("duty_class IN ('emergency', 'standard', 'other')", name=op.f('ck_time_limit_defaults_duty_class_known')),
    sa.CheckConstraint("severity IN ('general', 'urgent', 'major')", name=op.f('ck_time_limit_defaults_severity_known')),
    sa.CheckConstraint('ack_minutes > 0 AND arrive_urban_minutes > 0 AND arrive_suburban_minutes > 0 AND arrive_rural_minutes > 0', name=op.f('ck_time_limit_defaults_minutes_positive')),
    sa.CheckConstraint('num_nonnulls(resolve_hours, resolve_working_days) = 1', name=op.f('ck_time_limit_defaults_one_resolve_unit')),
    sa.CheckConstraint('coalesce(resolve_hours, resolve_working_days) > 0', name=op.f('ck_time_limit_defaults_resolve_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_time_limit_defaults_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_time_limit_defaults')),
    sa.UniqueConstraint('tenant_id', 'duty_class', 'severity', name=op.f('uq_time_limit_defaults_tenant_id_duty_class_severity'))
    )
    op.create_table('escalation_steps',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('clock', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('recipients', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(step = 'warning') = (offset_minutes < 0)", name=op.f('ck_escalation_steps_only_warnings_precede')),
    sa.CheckConstraint("clock IN ('acknowledge', 'arrive', 'resolve')", name=op.f('ck_escalation_steps_clock_known')),
    sa.CheckConstraint("recipients <@ ARRAY['liaison', 'on_duty', 'unit_leader', 'office', 'leadership']::varchar[]", name=op.f('ck_escalation_steps_recipients_known')),
    sa.CheckConstraint("step IN ('warning', 'yellow', 'red', 'leadership')", name=op.f('ck_escalation_steps_step_known')),
    sa.CheckConstraint('cardinality(recipients) > 0', name=op.f('ck_escalation_steps_has_a_recipient')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_escalation_steps_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_escalation_steps')),
    sa.UniqueConstraint('tenant_id', 'clock', 'step', name=op.f('uq_escalation_steps_tenant_id_clock_step'))
    )

    _backfill_existing_tenants()
    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.drop_table('escalation_steps')
    op.drop_table('time_limit_defaults')
