"""Duty rosters: rotation patterns with their slots, and one-off overrides.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:00:00
"""
from alembic import op
import sqlalchemy as sa

from app import rls

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("roster_patterns", "roster_pattern_slots", "roster_overrides")


def upgrade():
    op.create_table('roster_patterns',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('shift_hours', sa.Integer(), nullable=False),
    sa.Column('every_hours', sa.Integer(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_roster_patterns_ends_after_start')),
    sa.CheckConstraint('shift_hours BETWEEN 1 AND 168', name=op.f('ck_roster_patterns_shift_hours_range')),
    sa.CheckConstraint('every_hours IS NULL OR every_hours BETWEEN shift_hours AND 168', name=op.f('ck_roster_patterns_every_hours_range')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_roster_patterns_tenant_id_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roster_patterns_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_roster_patterns'))
    )
    op.create_index('uq_roster_patterns_live_name', 'roster_patterns', ['tenant_id', 'unit_id', 'name'], unique=True, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('roster_pattern_slots',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('pattern_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('position >= 0 AND position < 50', name=op.f('ck_roster_pattern_slots_position_range')),
    sa.ForeignKeyConstraint(['tenant_id', 'pattern_id'], ['roster_patterns.tenant_id', 'roster_patterns.id'], name=op.f('fk_roster_pattern_slots_tenant_id_pattern_id_roster_patterns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_roster_pattern_slots_tenant_id_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roster_pattern_slots_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'pattern_id', 'position', name=op.f('pk_roster_pattern_slots'))
    )
    op.create_table('roster_overrides',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('replaced_user_id', sa.BigInteger(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'replace') = (replaced_user_id IS NOT NULL)", name=op.f('ck_roster_overrides_replace_names_replaced')),
    sa.CheckConstraint("kind IN ('extra', 'replace', 'cancel')", name=op.f('ck_roster_overrides_kind_known')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_roster_overrides_ends_after_start')),
    sa.CheckConstraint('replaced_user_id IS NULL OR replaced_user_id <> user_id', name=op.f('ck_roster_overrides_not_replacing_self')),
    sa.ForeignKeyConstraint(['tenant_id', 'replaced_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_roster_overrides_tenant_id_replaced_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_roster_overrides_tenant_id_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_roster_overrides_tenant_id_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roster_overrides_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_roster_overrides'))
    )
    op.create_index('ix_roster_overrides_unit_window', 'roster_overrides', ['tenant_id', 'unit_id', 'starts_at'], unique=False)

    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.drop_index('ix_roster_overrides_unit_window', table_name='roster_overrides')
    op.drop_table('roster_overrides')
    op.drop_table('roster_pattern_slots')
    op.drop_index('uq_roster_patterns_live_name', table_name='roster_patterns', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('roster_patterns')
