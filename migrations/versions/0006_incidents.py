"""Incidents (接警): incidents with a bigram search vector, merged repeat calls, daily numbering counters.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 18:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

from app import rls
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("incidents", "incident_calls", "incident_counters")


def upgrade():
    op.create_table('incident_counters',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_serial > 0', name=op.f('ck_incident_counters_last_serial_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_incident_counters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'day', name=op.f('pk_incident_counters'))
    )
    op.create_table('incidents',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('caller_name', sa.String(length=50), nullable=True),
    sa.Column('caller_phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('area_type', sa.String(length=16), nullable=False),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('location_accuracy_m', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category_id', sa.BigInteger(), nullable=True),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.String(length=24), nullable=True),
    sa.Column('callback_note', sa.Text(), nullable=True),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_vector', postgresql.TSVECTOR(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)", name=op.f('ck_incidents_merged_has_target')),
    sa.CheckConstraint("area_type IN ('urban', 'suburban', 'rural')", name=op.f('ck_incidents_area_type_known')),
    sa.CheckConstraint("route IN ('police', 'police_first', 'direct')", name=op.f('ck_incidents_route_known')),
    sa.CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')", name=op.f('ck_incidents_satisfaction_known')),
    sa.CheckConstraint("severity IN ('general', 'urgent', 'major')", name=op.f('ck_incidents_severity_known')),
    sa.CheckConstraint("source IN ('phone_110', 'transfer_12345', 'sms', 'online', 'walk_in')", name=op.f('ck_incidents_source_known')),
    sa.CheckConstraint("state IN ('open', 'resolved', 'closed', 'cancelled', 'merged')", name=op.f('ck_incidents_state_known')),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name=op.f('ck_incidents_coordinates_paired')),
    sa.CheckConstraint('latitude IS NULL OR latitude BETWEEN -90 AND 90', name=op.f('ck_incidents_latitude_range')),
    sa.CheckConstraint('longitude IS NULL OR longitude BETWEEN -180 AND 180', name=op.f('ck_incidents_longitude_range')),
    sa.CheckConstraint('merged_into_id IS NULL OR merged_into_id <> id', name=op.f('ck_incidents_not_merged_into_self')),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['categories.tenant_id', 'categories.id'], name=op.f('fk_incidents_tenant_id_category_id_categories')),
    sa.ForeignKeyConstraint(['tenant_id', 'created_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_incidents_tenant_id_created_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'merged_into_id'], ['incidents.tenant_id', 'incidents.id'], name=op.f('fk_incidents_tenant_id_merged_into_id_incidents')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_incidents_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_incidents_tenant_id_number'))
    )
    op.create_index('ix_incidents_search_vector', 'incidents', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_incidents_tenant_id_received_at', 'incidents', ['tenant_id', 'received_at'], unique=False)
    op.create_index('ix_incidents_tenant_id_state_received_at', 'incidents', ['tenant_id', 'state', 'received_at'], unique=False)
    op.create_table('incident_calls',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('caller_name', sa.String(length=50), nullable=True),
    sa.Column('caller_phone', sa.String(length=32), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('merged_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('phone_110', 'transfer_12345', 'sms', 'online', 'walk_in')", name=op.f('ck_incident_calls_source_known')),
    sa.ForeignKeyConstraint(['tenant_id', 'incident_id'], ['incidents.tenant_id', 'incidents.id'], name=op.f('fk_incident_calls_tenant_id_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'merged_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_incident_calls_tenant_id_merged_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_incident_calls_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_incident_calls'))
    )
    op.create_index(op.f('ix_incident_calls_incident_id'), 'incident_calls', ['incident_id'], unique=False)

    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.drop_index(op.f('ix_incident_calls_incident_id'), table_name='incident_calls')
    op.drop_table('incident_calls')
    op.drop_index('ix_incidents_tenant_id_state_received_at', table_name='incidents')
    op.drop_index('ix_incidents_tenant_id_received_at', table_name='incidents')
    op.drop_index('ix_incidents_search_vector', table_name='incidents', postgresql_using='gin')
    op.drop_table('incidents')
    op.drop_table('incident_counters')
