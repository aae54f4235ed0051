"""Media (现场照片): content-addressed blobs per tenant and the uploaded items naming them, under RLS.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app import rls

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("media_blobs", "media_items")


def upgrade():
    op.create_table('media_blobs',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('orientation', sa.Integer(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gps_latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('gps_longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('device_make', sa.String(length=100), nullable=True),
    sa.Column('device_model', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('storage_errors', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('derived_format', sa.String(length=8), nullable=True),
    sa.Column('display_bytes', sa.BigInteger(), nullable=True),
    sa.Column('thumbnail_bytes', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_referenced_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('original_deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'processing', 'ready', 'failed')", name=op.f('ck_media_blobs_state_known')),
    sa.CheckConstraint("format IN ('jpeg', 'png', 'webp', 'heif')", name=op.f('ck_media_blobs_format_known')),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_media_blobs_sha256_hex')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_media_blobs_size_positive')),
    sa.CheckConstraint('(gps_latitude IS NULL) = (gps_longitude IS NULL)', name=op.f('ck_media_blobs_gps_paired')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_media_blobs_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'sha256', name=op.f('pk_media_blobs'))
    )
    op.create_index('ix_media_blobs_tenant_id_state', 'media_blobs', ['tenant_id', 'state'], unique=False)
    op.create_table('media_items',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('instruction_id', sa.BigInteger(), nullable=True),
    sa.Column('uploaded_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client_filename', sa.String(length=255), nullable=True),
    sa.Column('declared_type', sa.String(length=100), nullable=True),
    sa.Column('flags', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('flags_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'instruction_id'], ['instructions.tenant_id', 'instructions.id'], name=op.f('fk_media_items_tenant_id_instruction_id_instructions')),
    sa.ForeignKeyConstraint(['tenant_id', 'sha256'], ['media_blobs.tenant_id', 'media_blobs.sha256'], name=op.f('fk_media_items_tenant_id_sha256_media_blobs')),
    sa.ForeignKeyConstraint(['tenant_id', 'uploaded_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_media_items_tenant_id_uploaded_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_media_items_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_media_items'))
    )
    op.create_index('ix_media_items_tenant_id_instruction_id', 'media_items', ['tenant_id', 'instruction_id'], unique=False)
    op.create_index('ix_media_items_tenant_id_sha256', 'media_items', ['tenant_id', 'sha256'], unique=False)

    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.drop_index('ix_media_items_tenant_id_sha256', table_name='media_items')
    op.drop_index('ix_media_items_tenant_id_instruction_id', table_name='media_items')
    op.drop_table('media_items')
    op.drop_index('ix_media_blobs_tenant_id_state', table_name='media_blobs')
    op.drop_table('media_blobs')
