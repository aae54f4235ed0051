"""Routing suggestions: confirmed examples and trained models.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 18:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

from app import rls
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NEW_TENANT_TABLES = ("routing_examples", "routing_models")


def upgrade():
    op.create_table('routing_examples',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('category_id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=True),
    sa.Column('confirmed_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('incident', 'manual')", name=op.f('ck_routing_examples_source_known')),
    sa.ForeignKeyConstraint(['tenant_id', 'category_id'], ['categories.tenant_id', 'categories.id'], name=op.f('fk_routing_examples_tenant_id_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'confirmed_by_user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_routing_examples_tenant_id_confirmed_by_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_routing_examples_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_routing_examples')),
    sa.UniqueConstraint('tenant_id', 'source', 'source_ref', name=op.f('uq_routing_examples_tenant_id_source_source_ref'))
    )
    op.create_index(op.f('ix_routing_examples_category_id'), 'routing_examples', ['category_id'], unique=False)
    op.create_table('routing_models',
    sa.Column('tenant_id', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('analyzer_version', sa.Integer(), nullable=False),
    sa.Column('examples_digest', sa.String(length=64), nullable=False),
    sa.Column('example_count', sa.Integer(), nullable=False),
    sa.Column('weights', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('version > 0', name=op.f('ck_routing_models_version_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_routing_models_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_routing_models')),
    sa.UniqueConstraint('tenant_id', 'version', name=op.f('uq_routing_models_tenant_id_version'))
    )

    for table in NEW_TENANT_TABLES:
        op.execute(rls.enable_tenant_rls_sql(table))
    op.execute(rls.grant_app_role_sql())


def downgrade():
    op.drop_table('routing_models')
    op.drop_index(op.f('ix_routing_examples_category_id'), table_name='routing_examples')
    op.drop_table('routing_examples')
