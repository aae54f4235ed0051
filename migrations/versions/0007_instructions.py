"""Instructions (指令): instructions, their named responders, unit feedback, the incident timeline.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 18:43:16.590281
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app import rls

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("instructions", "instruction_responders", "instruction_feedback", "timeline_events")


def upgrade():
    op.create_table('instructions',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('unit_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('needs_site_visit', sa.Boolean(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('en_route_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('en_route_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('redo_count', sa.Integer(), nullable=False),
    sa.Column('acknowledge_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrive_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolve_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result_code', sa.String(length=8), nullable=True),
    sa.Column('result_text', sa.Text(), nullable=True),
    sa.Column('reissue_of_id', sa.BigInteger(), nullable=True),
    sa.Column('is_overruled_return', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('lead', 'assist')", name=op.f('ck_instructions_role_known')),
    sa.CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL", name=op.f('ck_instructions_return_has_reason')),
    sa.CheckConstraint("state IN ('issued', 'acknowledged', 'en_route', 'on_scene', 'resolved', 'returned', 'cancelled')", name=op.f('ck_instructions_state_known')),
    sa.CheckConstraint('version > 0', name=op.f('ck_instructions_version_positive')),
    sa.ForeignKeyConstraint(['tenant_id', 'acknowledged_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_acknowledged_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'arrived_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_arrived_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'cancelled_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_cancelled_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'en_route_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_en_route_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'incident_id'], ['incidents.tenant_id', 'incidents.id'], name=op.f('fk_instructions_tenant_id_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'issued_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_issued_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'reissue_of_id'], ['instructions.tenant_id', 'instructions.id'], name=op.f('fk_instructions_tenant_id_reissue_of_id_instructions')),
    sa.ForeignKeyConstraint(['tenant_id', 'reopened_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_reopened_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'resolved_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_resolved_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'returned_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instructions_tenant_id_returned_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'unit_id'], ['units.tenant_id', 'units.id'], name=op.f('fk_instructions_tenant_id_unit_id_units')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_instructions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_instructions'))
    )
    op.create_index('ix_instructions_tenant_id_incident_id', 'instructions', ['tenant_id', 'incident_id'], unique=False)
    op.create_index('ix_instructions_tenant_id_unit_id_state', 'instructions', ['tenant_id', 'unit_id', 'state'], unique=False)
    op.create_table('instruction_feedback',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('instruction_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_user_id', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('accuracy_m', sa.Integer(), nullable=True),
    sa.Column('media_ids', postgresql.ARRAY(sa.Uuid()), nullable=False),
    sa.CheckConstraint("kind IN ('arrival', 'progress', 'result')", name=op.f('ck_instruction_feedback_kind_known')),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name=op.f('ck_instruction_feedback_coordinates_paired')),
    sa.CheckConstraint('accuracy_m IS NULL OR accuracy_m >= 0', name=op.f('ck_instruction_feedback_accuracy_not_negative')),
    sa.CheckConstraint('latitude IS NULL OR latitude BETWEEN -90 AND 90', name=op.f('ck_instruction_feedback_latitude_range')),
    sa.CheckConstraint('longitude IS NULL OR longitude BETWEEN -180 AND 180', name=op.f('ck_instruction_feedback_longitude_range')),
    sa.ForeignKeyConstraint(['tenant_id', 'author_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instruction_feedback_tenant_id_author_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'instruction_id'], ['instructions.tenant_id', 'instructions.id'], name=op.f('fk_instruction_feedback_tenant_id_instruction_id_instructions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_instruction_feedback_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_instruction_feedback'))
    )
    op.create_index('ix_instruction_feedback_tenant_id_instruction_id', 'instruction_feedback', ['tenant_id', 'instruction_id'], unique=False)
    op.create_table('instruction_responders',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('instruction_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('named_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'instruction_id'], ['instructions.tenant_id', 'instructions.id'], name=op.f('fk_instruction_responders_tenant_id_instruction_id_instructions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_instruction_responders_tenant_id_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_instruction_responders_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'instruction_id', 'user_id', name=op.f('pk_instruction_responders'))
    )
    op.create_index('ix_instruction_responders_tenant_id_user_id', 'instruction_responders', ['tenant_id', 'user_id'], unique=False)
    op.create_table('timeline_events',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('instruction_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('actor_user_id', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_timeline_events_tenant_id_actor_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id', 'incident_id'], ['incidents.tenant_id', 'incidents.id'], name=op.f('fk_timeline_events_tenant_id_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'instruction_id'], ['instructions.tenant_id', 'instructions.id'], name=op.f('fk_timeline_events_tenant_id_instruction_id_instructions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_timeline_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_timeline_events'))
    )
    op.create_index('ix_timeline_events_tenant_id_incident_id_id', 'timeline_events', ['tenant_id', 'incident_id', 'id'], unique=False)

    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.drop_index('ix_timeline_events_tenant_id_incident_id_id', table_name='timeline_events')
    op.drop_table('timeline_events')
    op.drop_index('ix_instruction_responders_tenant_id_user_id', table_name='instruction_responders')
    op.drop_table('instruction_responders')
    op.drop_index('ix_instruction_feedback_tenant_id_instruction_id', table_name='instruction_feedback')
    op.drop_table('instruction_feedback')
    op.drop_index('ix_instructions_tenant_id_unit_id_state', table_name='instructions')
    op.drop_index('ix_instructions_tenant_id_incident_id', table_name='instructions')
    op.drop_table('instructions')
