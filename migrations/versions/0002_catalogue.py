"""Catalogue: unit contacts and responsibilities, contact history, categories, notifications outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 17:55:01.998701
"""
from alembic import op
import sqlalchemy as sa

from app import rls
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("unit_responsibilities", "unit_contact_changes", "categories", "category_assists",
                     "category_responsibilities", "notifications")


def upgrade():
    op.create_table('categories',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('parent_id', sa.BigInteger(), nullable=True),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('keywords', postgresql.ARRAY(sa.String(length=50)), nullable=False),
    sa.Column('lead_unit_id', sa.BigInteger(), nullable=True),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('needs_site_visit', sa.Boolean(), nullable=False),
    sa.Column('time_limits', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("route IN ('police', 'police_first', 'direct')", name=op.f('ck_categories_route_known')),
    sa.CheckConstraint("severity IN ('general', 'urgent', 'major')", name=op.f('ck_categories_severity_known')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_categories_not_own_parent')),
    sa.ForeignKeyConstraint(['tenant_id', 'lead_unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_categories_tenant_id_lead_unit_id_units')),
    sa.ForeignKeyConstraint(['tenant_id', 'parent_id'], ['categories.tenant_id', 'categories.id'], name=op.f('fk_categories_tenant_id_parent_id_categories')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_categories_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_categories')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_categories_tenant_id_code')),
    sa.UniqueConstraint('tenant_id', 'parent_id', 'name', name=op.f('uq_categories_tenant_id_parent_id_name'), postgresql_nulls_not_distinct=True)
    )
    op.create_table('unit_responsibilities',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_unit_responsibilities_number_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_unit_responsibilities_tenant_id_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_unit_responsibilities_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_unit_responsibilities')),
    sa.UniqueConstraint('tenant_id', 'unit_id', 'number', name=op.f('uq_unit_responsibilities_tenant_id_unit_id_number'))
    )
    op.create_table('category_assists',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('category_id', sa.BigInteger(), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['categories.tenant_id', 'categories.id'], name=op.f('fk_category_assists_tenant_id_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_category_assists_tenant_id_unit_id_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_category_assists_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'category_id', 'unit_id', name=op.f('pk_category_assists'))
    )
    op.create_table('category_responsibilities',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('category_id', sa.BigInteger(), nullable=False),
    sa.Column('responsibility_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['categories.tenant_id', 'categories.id'], name=op.f('fk_category_responsibilities_tenant_id_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'responsibility_id'], ['unit_responsibilities.tenant_id', 'unit_responsibilities.id'], name=op.f('fk_category_responsibilities_tenant_id_responsibility_id_unit_responsibilities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_category_responsibilities_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'category_id', 'responsibility_id', name=op.f('pk_category_responsibilities'))
    )
    op.create_table('notifications',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('recipient_user_id', sa.BigInteger(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('inbox', 'sms', 'webhook', 'email')", name=op.f('ck_notifications_channel_known')),
    sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name=op.f('ck_notifications_state_known')),
    sa.ForeignKeyConstraint(['tenant_id', 'recipient_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_notifications_tenant_id_recipient_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notifications_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('tenant_id', 'dedupe_key', name=op.f('uq_notifications_tenant_id_dedupe_key'))
    )
    op.create_index(op.f('ix_notifications_created_at'), 'notifications', ['created_at'], unique=False)
    op.create_index(op.f('ix_notifications_recipient_user_id'), 'notifications', ['recipient_user_id'], unique=False)
    op.create_table('unit_contact_changes',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=False),
    sa.Column('changed_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'changed_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_unit_contact_changes_tenant_id_changed_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_unit_contact_changes_tenant_id_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_unit_contact_changes_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_unit_contact_changes'))
    )
    op.create_index(op.f('ix_unit_contact_changes_unit_id'), 'unit_contact_changes', ['unit_id'], unique=False)
    op.add_column('units', sa.Column('kind', sa.String(length=16), nullable=False, server_default='linkage'))
    op.execute("UPDATE units SET kind = 'police' WHERE is_police")
    op.alter_column('units', 'kind', server_default=None)
    op.create_check_constraint(op.f('ck_units_kind_known'), 'units', "kind IN ('police', 'supervisor', 'linkage')")
    op.add_column('units', sa.Column('duty_phone', sa.String(length=32), nullable=True))
    op.add_column('units', sa.Column('leader_name', sa.String(length=50), nullable=True))
    op.add_column('units', sa.Column('leader_title', sa.String(length=50), nullable=True))
    op.add_column('units', sa.Column('leader_phone', sa.String(length=32), nullable=True))
    op.add_column('units', sa.Column('liaison_name', sa.String(length=50), nullable=True))
    op.add_column('units', sa.Column('liaison_title', sa.String(length=50), nullable=True))
    op.add_column('units', sa.Column('liaison_phone', sa.String(length=32), nullable=True))
    op.add_column('units', sa.Column('webhook_url', sa.String(length=500), nullable=True))
    op.add_column('units', sa.Column('sort_order', sa.Integer(), nullable=False, server_default='0'))
    op.alter_column('units', 'sort_order', server_default=None)
    op.create_unique_constraint(op.f('uq_units_tenant_id_name'), 'units', ['tenant_id', 'name'])
    op.create_unique_constraint(op.f('uq_units_tenant_id_short_name'), 'units', ['tenant_id', 'short_name'])
    op.drop_column('units', 'is_police')

    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.add_column('units', sa.Column('is_police', sa.BOOLEAN(), autoincrement=False, nullable=False,
                                     server_default=sa.false()))
    op.execute("UPDATE units SET is_police = (kind = 'police')")
    op.alter_column('units', 'is_police', server_default=None)
    op.drop_constraint(op.f('ck_units_kind_known'), 'units', type_='check')
    op.drop_constraint(op.f('uq_units_tenant_id_short_name'), 'units', type_='unique')
    op.drop_constraint(op.f('uq_units_tenant_id_name'), 'units', type_='unique')
    op.drop_column('units', 'sort_order')
    op.drop_column('units', 'webhook_url')
    op.drop_column('units', 'liaison_phone')
    op.drop_column('units', 'liaison_title')
    op.drop_column('units', 'liaison_name')
    op.drop_column('units', 'leader_phone')
    op.drop_column('units', 'leader_title')
    op.drop_column('units', 'leader_name')
    op.drop_column('units', 'duty_phone')
    op.drop_column('units', 'kind')
    op.drop_index(op.f('ix_unit_contact_changes_unit_id'), table_name='unit_contact_changes')
    op.drop_table('unit_contact_changes')
    op.drop_index(op.f('ix_notifications_recipient_user_id'), table_name='notifications')
    op.drop_index(op.f('ix_notifications_created_at'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('category_responsibilities')
    op.drop_table('category_assists')
    op.drop_table('unit_responsibilities')
    op.drop_table('categories')
