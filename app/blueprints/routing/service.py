"""Routing suggestions: the per-process index cache, suggesting, recording what the desk chose, training.

The index of a tenant is built once per process and reused while the tenant's catalogue
and model are unchanged. Every request asks PostgreSQL one cheap question (the
catalogue's newest `updated_at`, its row counts and the latest model version); only
when the answer differs is the index rebuilt.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import delete, func, select

from app.blueprints.catalogue.models import Category, CategoryAssist, CategoryResponsibility
from app.blueprints.routing import analysis, engine, learning, textmodel
from app.blueprints.routing.models import EXAMPLE_SOURCES, RoutingExample, RoutingModel
from app.blueprints.units.models import Responsibility, Unit
from app.errors import Unprocessable
from app.extensions import db

log = logging.getLogger(__name__)

# A rebuild at least this often, whatever the signature says: a change the signature cannot
# see (an assist swapped for another in one transaction) is picked up within this time.
MAX_INDEX_AGE_SECONDS = 300
MODEL_VERSIONS_KEPT = 3


@dataclass
class _Cached:
    signature: tuple
    built_at: float
    index: engine.Index


_cache: dict[int, _Cached] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# -- the index

def _signature(tenant_id: int) -> tuple:
    """One round trip: what would change if the catalogue or the model changed."""
    def scalar(statement):
        return statement.scalar_subquery()

    row = db.session.execute(select(
        scalar(select(func.max(Category.updated_at)).where(Category.tenant_id == tenant_id)),
        scalar(select(func.count()).select_from(Category).where(Category.tenant_id == tenant_id)),
        scalar(select(func.count()).select_from(CategoryAssist).where(CategoryAssist.tenant_id == tenant_id)),
        scalar(select(func.count()).select_from(CategoryResponsibility)
               .where(CategoryResponsibility.tenant_id == tenant_id)),
        scalar(select(func.max(Unit.updated_at)).where(Unit.tenant_id == tenant_id)),
        scalar(select(func.max(RoutingModel.version)).where(RoutingModel.tenant_id == tenant_id)),
    )).one()
    return tuple(row)


def _unit_ref(unit: Unit | None) -> dict | None:
    return None if unit is None else {"id": unit.id, "name": unit.name, "short_name": unit.short_name}


def _load_docs(tenant_id: int) -> list[engine.CategoryDoc]:
    categories = db.session.execute(select(Category).where(Category.tenant_id == tenant_id)).scalars().all()
    units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.tenant_id == tenant_id)).scalars()}
    duties = {r.id: r.text for r in db.session.execute(
        select(Responsibility).where(Responsibility.tenant_id == tenant_id)).scalars()}
    by_id = {c.id: c for c in categories}
    docs = []
    for category in categories:
        parent = by_id.get(category.parent_id) if category.parent_id is not None else None
        # The desk picks level-2 categories, active ones, under an active level 1.
        if parent is None or not category.is_active or not parent.is_active:
            continue
        docs.append(engine.CategoryDoc(
            id=category.id, code=category.code, name=category.name, route=category.route,
            severity=category.severity, description=category.description or "",
            keywords=list(category.keywords or []),
            parent={"id": parent.id, "code": parent.code, "name": parent.name},
            lead_unit=_unit_ref(units.get(category.lead_unit_id)),
            assisting_units=[_unit_ref(units[u]) for u in category.assisting_unit_ids if u in units],
            responsibilities=[duties[r] for r in category.responsibility_ids if r in duties],
        ))
    return docs


def _latest_model(tenant_id: int) -> RoutingModel | None:
    return db.session.execute(
        select(RoutingModel).where(RoutingModel.tenant_id == tenant_id)
        .order_by(RoutingModel.version.desc()).limit(1)).scalar_one_or_none()


def index_for(tenant_id: int) -> engine.Index:
    """The tenant's index: from this process's cache while the catalogue and model are unchanged."""
    signature = _signature(tenant_id)
    cached = _cache.get(tenant_id)
    if cached and cached.signature == signature and time.monotonic() - cached.built_at < MAX_INDEX_AGE_SECONDS:
        return cached.index
    with _cache_lock:
        cached = _cache.get(tenant_id)
        if cached and cached.signature == signature and time.monotonic() - cached.built_at < MAX_INDEX_AGE_SECONDS:
            return cached.index
        model = _latest_model(tenant_id)
        usable = model is not None and model.analyzer_version == analysis.ANALYZER_VERSION
        built = engine.Index(_load_docs(tenant_id), learned=model.weights if usable else None,
                             catalogue_version=f"{signature[0].isoformat() if signature[0] else '-'}/{signature[1]}",
                             model_version=model.version if usable else None, text_model=textmodel.shared())
        _cache[tenant_id] = _Cached(signature, time.monotonic(), built)
        return built


# -- suggesting

def suggest(*, tenant, text: str, limit: int = 5) -> dict:
    """Ranked level-2 categories for a caller's words (分派建议), each with why it was suggested."""
    index = index_for(tenant.id)
    result = index.suggest(text, limit=limit)
    return {
        "suggestions": [
            {"rank": rank, "score": round(scored.score, 3), "category": _category_out(scored.doc),
             "lead_unit": scored.doc.lead_unit, "assisting_units": scored.doc.assisting_units,
             "route": scored.doc.route, "severity": scored.doc.severity,
             "matched": engine.explain(scored.matches)}
            for rank, scored in enumerate(result.results, start=1)],
        "problems": result.problems,
        "fallback": result.fallback,
        "corrections": [{"written": wrong, "read_as": right} for wrong, right in result.analysis.fixes],
        "catalogue_version": index.catalogue_version,
        "model_version": index.model_version,
    }


def _category_out(doc: engine.CategoryDoc) -> dict:
    return {"id": doc.id, "code": doc.code, "name": doc.name, "parent": doc.parent}


# -- learning

def record_confirmed_choice(*, tenant_id: int, text: str, category_id: int, source: str = "incident",
                            source_ref: str | None = None, confirmed_by_user_id: int | None = None,
                            confirmed_at: datetime | None = None, uow=None) -> RoutingExample:
    """Remember that the desk confirmed `category_id` for a call's `text` (the incidents domain calls this).

    Joins the caller's transaction and does not commit: the example exists exactly when the
    confirmation does. With a `source_ref` (the incident number) a later confirmation of the
    same incident replaces the earlier one. Given the caller's unit of work, a training run is
    enqueued after it commits; otherwise the periodic `train_all_routing_models` picks it up.
    """
    if source not in EXAMPLE_SOURCES:
        raise ValueError(f"unknown example source {source!r}")
    text = text.strip()
    category = db.session.get(Category, (tenant_id, category_id))
    if category is None or category.parent_id is None:
        raise Unprocessable("category_not_found", "No such level-2 category in this district.",
                            errors={"category_id": ["Unknown level-2 category."]})
    example = None
    if source_ref is not None:
        example = db.session.execute(select(RoutingExample).where(
            RoutingExample.tenant_id == tenant_id, RoutingExample.source == source,
            RoutingExample.source_ref == source_ref)).scalar_one_or_none()
    if example is None:
        example = RoutingExample(tenant_id=tenant_id, source=source, source_ref=source_ref)
        db.session.add(example)
    example.text, example.category_id = text, category_id
    example.confirmed_by_user_id = confirmed_by_user_id
    example.confirmed_at = confirmed_at or datetime.now(UTC)
    db.session.flush()
    if uow is not None:
        uow.after_commit(schedule_training, tenant_id=tenant_id)
    return example


def schedule_training(*, tenant_id: int) -> None:
    """Enqueue a training run; a duplicate is harmless (the job trains only on changed examples)."""
    from app.blueprints.routing.jobs import train_routing_model
    from worker.queues import queue_for

    try:
        queue_for(train_routing_model, current_app.extensions["liandong_redis"]).enqueue(
            train_routing_model, tenant_id)
    except Exception:  # Redis trouble must not fail the desk's confirmation; the periodic run catches up
        log.warning("could not enqueue routing training", extra={"tenant_id": tenant_id}, exc_info=True)


def train(*, tenant_id: int) -> dict:
    """Retrain a tenant's model from all its examples, unless the latest model already covers them.

    Runs in the caller's tenant scope and owns its transaction. A transaction-scoped advisory
    lock serialises runs of one tenant, so two duplicate jobs never both add a version.
    """
    db.session.execute(select(func.pg_advisory_xact_lock(
        func.hashtextextended(f"routing-train:{tenant_id}", 0))))
    rows = db.session.execute(select(RoutingExample.id, RoutingExample.text, RoutingExample.category_id)
                              .where(RoutingExample.tenant_id == tenant_id)
                              .order_by(RoutingExample.id)).all()
    examples = [(row.id, row.text, row.category_id) for row in rows]
    examples_digest = learning.digest(examples)
    latest = _latest_model(tenant_id)
    now = datetime.now(UTC)
    if latest is None and not examples:
        db.session.commit()
        return {"tenant_id": tenant_id, "status": "nothing_to_learn", "version": None, "examples": 0}
    if (latest is not None and latest.examples_digest == examples_digest
            and latest.analyzer_version == analysis.ANALYZER_VERSION):
        latest.checked_at = now
        db.session.commit()
        return {"tenant_id": tenant_id, "status": "unchanged", "version": latest.version,
                "examples": latest.example_count}
    weights = learning.train([(text, category_id) for _, text, category_id in examples])
    version = (latest.version if latest else 0) + 1
    db.session.add(RoutingModel(tenant_id=tenant_id, version=version, analyzer_version=analysis.ANALYZER_VERSION,
                                examples_digest=examples_digest, example_count=len(examples), weights=weights,
                                trained_at=now, checked_at=now))
    db.session.execute(delete(RoutingModel).where(RoutingModel.tenant_id == tenant_id,
                                                  RoutingModel.version <= version - MODEL_VERSIONS_KEPT))
    db.session.commit()
    return {"tenant_id": tenant_id, "status": "trained", "version": version, "examples": len(examples),
            "terms": len(weights["terms"])}
