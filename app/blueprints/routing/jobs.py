"""Training jobs (RQ, `default` queue): retrain a tenant's routing model from its confirmed examples.

Jobs are hints: each re-reads the examples in PostgreSQL and trains only if they changed
since the latest model, so a duplicated or repeated job adds nothing. What a run did is
on the model row (`trained_at`, `checked_at`, `example_count`), in the log, and in the
job's return value.
"""
from __future__ import annotations

import logging

from app.blueprints.routing import service
from app.tenants.context import tenant_scope
from app.tenants.service import list_tenants
from worker.context import in_app_context, until_shutdown

log = logging.getLogger(__name__)


@in_app_context
def train_routing_model(tenant_id: int) -> dict:
    """Retrain one tenant's model, in that tenant's scope only."""
    with tenant_scope([tenant_id]):
        summary = service.train(tenant_id=tenant_id)
    log.info("routing model training", extra=summary)
    return summary


@in_app_context
def train_all_routing_models() -> list[dict]:
    """The periodic catch-up: every tenant, one at a time, each in its own scope."""
    summaries = []
    for tenant in until_shutdown(list_tenants()):
        with tenant_scope([tenant.id]):
            summaries.append(service.train(tenant_id=tenant.id))
    trained = [s for s in summaries if s["status"] == "trained"]
    log.info("routing models training sweep", extra={"tenants": len(summaries), "trained": len(trained)})
    return summaries
