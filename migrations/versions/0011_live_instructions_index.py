"""The live instructions' own index, carrying their clocks: the desk board's "overdue first".

A partial index over instructions still in hand (issued, acknowledged, en route, on scene): a few hundred
rows of a district's million. The board reads the set of incidents with a run-out clock from it in one
index-only scan instead of probing every incident in hand (bench/incidents/RESULTS.md, round 4).

Built CONCURRENTLY, outside the migration's transaction, so a live system keeps taking instructions while
it scans the table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 03:40:00.000000
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

LIVE = "state IN ('issued', 'acknowledged', 'en_route', 'on_scene')"


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_instructions_live")  # an interrupted build leaves it invalid
        op.create_index('ix_instructions_live', 'instructions', ['tenant_id', 'incident_id'], unique=False,
                        postgresql_include=['state', 'unit_id', 'acknowledge_by', 'arrive_by',
                                            'resolve_by', 'needs_site_visit'],
                        postgresql_where=LIVE, postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index('ix_instructions_live', table_name='instructions', postgresql_concurrently=True)
