"""Reminders: timers per escalation step, the instruction's supervision level, and the outbox's
delivery columns and endpoints (SMS gateway, unit webhooks, mailboxes), under RLS.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 21:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app import rls

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("timers", "notification_endpoints")


def upgrade():
    op.add_column('instructions', sa.Column('supervision_level', sa.String(length=8), server_default='none',
                                            nullable=False))
    op.create_check_constraint(op.f('ck_instructions_supervision_level_known'), 'instructions',
                               "supervision_level IN ('none', 'yellow', 'red')")

    op.create_table('timers',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('instruction_id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=False),
    sa.Column('clock', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('offset_seconds', sa.Integer(), nullable=False),
    sa.Column('recipients', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('token', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fired_by', sa.String(length=8), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=64), nullable=True),
    sa.Column('outcome', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("clock IN ('acknowledge', 'arrive', 'resolve', 'manual')", name=op.f('ck_timers_clock_known')),
    sa.CheckConstraint("step IN ('warning', 'yellow', 'red', 'leadership', 'urge')", name=op.f('ck_timers_step_known')),
    sa.CheckConstraint("state IN ('pending', 'fired', 'cancelled')", name=op.f('ck_timers_state_known')),
    sa.CheckConstraint("(state = 'fired') = (fired_at IS NOT NULL)", name=op.f('ck_timers_fired_has_time')),
    sa.CheckConstraint('token > 0', name=op.f('ck_timers_token_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'instruction_id'], ['instructions.tenant_id', 'instructions.id'], name=op.f('fk_timers_tenant_id_instruction_id_instructions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_timers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_timers'))
    )
    op.create_index('ix_timers_pending_due', 'timers', ['tenant_id', 'due_at'], unique=False,
                    postgresql_where="state = 'pending'")
    op.create_index('ix_timers_tenant_id_instruction_id', 'timers', ['tenant_id', 'instruction_id'], unique=False)
    op.create_index('ix_timers_tenant_id_unit_id_fired_at', 'timers', ['tenant_id', 'unit_id', 'fired_at'],
                    unique=False, postgresql_where="state = 'fired'")

    op.add_column('notifications', sa.Column('unit_id', sa.BigInteger(), nullable=True))
    op.add_column('notifications', sa.Column('address', sa.String(length=500), nullable=True))
    op.add_column('notifications', sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_notifications_due', 'notifications', ['tenant_id', 'next_attempt_at'], unique=False,
                    postgresql_where="state = 'pending'")

    op.create_table('notification_endpoints',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=True),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'webhook', 'email')", name=op.f('ck_notification_endpoints_channel_known')),
    sa.CheckConstraint("channel <> 'sms' OR unit_id IS NULL", name=op.f('ck_notification_endpoints_sms_gateway_per_tenant')),
    sa.CheckConstraint("channel <> 'webhook' OR (unit_id IS NOT NULL AND secret IS NOT NULL)", name=op.f('ck_notification_endpoints_webhook_per_unit_signed')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_notification_endpoints_tenant_id_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notification_endpoints_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notification_endpoints')),
    sa.UniqueConstraint('tenant_id', 'channel', 'unit_id', name=op.f('uq_notification_endpoints_tenant_id_channel_unit_id'), postgresql_nulls_not_distinct=True)
    )

    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.drop_table('notification_endpoints')
    op.drop_index('ix_notifications_due', table_name='notifications', postgresql_where="state = 'pending'")
    op.drop_column('notifications', 'sent_at')
    op.drop_column('notifications', 'address')
    op.drop_column('notifications', 'unit_id')
    op.drop_index('ix_timers_tenant_id_unit_id_fired_at', table_name='timers', postgresql_where="state = 'fired'")
    op.drop_index('ix_timers_tenant_id_instruction_id', table_name='timers')
    op.drop_index('ix_timers_pending_due', table_name='timers', postgresql_where="state = 'pending'")
    op.drop_table('timers')
    op.drop_constraint(op.f('ck_instructions_supervision_level_known'), 'instructions', type_='check')
    op.drop_column('instructions', 'supervision_level')
