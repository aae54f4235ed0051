"""`python -m bench.routing.latency`: how fast suggestions answer on a synthetic 200-category catalogue.

Three numbers, on a throwaway database (see harness.py):
- cold: building a tenant's index (the first request of a process, or after a catalogue change);
- engine: `Index.suggest` alone, in memory;
- API: `POST /routing/suggest` through the whole stack (token check, tenant gate, the one
  catalogue-version query, ranking, JSON), with Flask's test client in this process; and,
  for scale, the same stack answering the cheapest tenant read (GET /api/v1/t/<code>).
Queries are the labelled calls' texts (real lengths and wording), cycled.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from bench.routing.accuracy import HOLDOUT, LABELLED, load

LEVEL1 = 20
PER_GROUP = 10
UNITS = 30


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def vocabulary(size: int = 4000, seed: int = 7) -> list[str]:
    """Common 2-4 character words from jieba's dictionary: plausible, and unrelated to any catalogue."""
    from app.blueprints.routing.analysis import tokenizer

    frequencies = tokenizer().FREQ
    words = [w for w, f in frequencies.items() if 2 <= len(w) <= 4 and f >= 200 and
             all("\u4e00" <= ch <= "\u9fff" for ch in w)]
    words.sort(key=lambda w: -frequencies[w])
    pool = words[:size]
    random.Random(seed).shuffle(pool)
    return pool


def synthetic_catalogue(seed: int = 11) -> tuple[list[tuple[str, str]], list[dict]]:
    """(units as (short name, name)), and 200 level-2 categories as dicts, deterministic."""
    rng = random.Random(seed)
    pool = vocabulary()
    units = [(f"单位{i:02d}", f"区合成单位{i:02d}") for i in range(UNITS)]
    categories = []
    for group in range(LEVEL1):
        for n in range(PER_GROUP):
            words = rng.sample(pool, 16)
            categories.append({
                "group": f"合成分组{group:02d}", "code": f"S{group:02d}{n:02d}",
                "name": words[0] + words[1], "keywords": words[2:2 + rng.randint(6, 12)],
                "description": "，".join(rng.sample(pool, 12)) + "。",
                "lead": rng.randrange(UNITS), "assists": rng.sample(range(UNITS), rng.randint(0, 2)),
            })
    return units, categories


def engine_docs(units, categories):
    from app.blueprints.routing.engine import CategoryDoc

    refs = [{"id": i + 1, "name": name, "short_name": short} for i, (short, name) in enumerate(units)]
    groups = {c["group"]: 10_000 + i for i, c in enumerate(categories)}
    return [CategoryDoc(id=i + 1, code=c["code"], name=c["name"], route="direct", severity="general",
                        description=c["description"], keywords=c["keywords"],
                        parent={"id": groups[c["group"]], "code": c["group"], "name": c["group"]},
                        lead_unit=refs[c["lead"]], assisting_units=[refs[a] for a in c["assists"]])
            for i, c in enumerate(categories)]


def install(tenant_id: int, units, categories) -> None:
    """The synthetic catalogue as rows of a tenant (inside the caller's scope and transaction)."""
    from app.blueprints.catalogue.models import Category, CategoryAssist
    from app.blueprints.units.models import Unit
    from app.extensions import db

    rows = [Unit(tenant_id=tenant_id, name=name, short_name=short, duty_class="standard", kind="linkage",
                 sort_order=i, is_active=True) for i, (short, name) in enumerate(units)]
    db.session.add_all(rows)
    db.session.flush()
    parents = {}
    for c in categories:
        if c["group"] not in parents:
            parents[c["group"]] = Category(tenant_id=tenant_id, code=f"G{len(parents):02d}", name=c["group"],
                                           description="", keywords=[], route="direct", severity="general")
            db.session.add(parents[c["group"]])
    db.session.flush()
    for c in categories:
        category = Category(tenant_id=tenant_id, parent_id=parents[c["group"]].id, code=c["code"], name=c["name"],
                            description=c["description"], keywords=c["keywords"], lead_unit_id=rows[c["lead"]].id,
                            route="direct", severity="general")
        category.assists = [CategoryAssist(tenant_id=tenant_id, unit_id=rows[a].id) for a in c["assists"]]
        db.session.add(category)
    db.session.flush()


def measure(fn, texts: list[str], count: int) -> list[float]:
    timings = []
    for i in range(count):
        started = time.perf_counter()
        fn(texts[i % len(texts)])
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def describe(name: str, timings: list[float]) -> str:
    return (f"{name}: n={len(timings)} p50={statistics.median(timings):.2f} ms "
            f"p99={percentile(timings, 0.99):.2f} ms max={max(timings):.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)

    from app.blueprints.routing import analysis
    from app.blueprints.routing.engine import Index

    texts = [c.text for c in load(LABELLED)[0] + load(HOLDOUT)[0]]
    analysis.tokenizer()  # the ~1 s dictionary load happens once per process, before any request
    units, categories = synthetic_catalogue()
    docs = engine_docs(units, categories)
    started = time.perf_counter()
    index = Index(docs)
    build_ms = (time.perf_counter() - started) * 1000
    measure(index.suggest, texts, 200)  # warm-up
    engine_timings = measure(index.suggest, texts, args.requests)

    from app.extensions import db
    from app.tenants.context import tenant_scope
    from bench.routing.harness import create_tenant, throwaway_app
    from tests.factories import Factory, auth, client_from

    with throwaway_app("routing_latency") as app:
        tenant_id = create_tenant(app, template=None)
        with app.app_context(), tenant_scope([tenant_id]):
            install(tenant_id, units, categories)
            db.session.commit()
        factory = Factory(app)
        from tests.factories import TenantRef

        desk = factory.user(TenantRef(tenant_id, "620602", "凉州区", "620000"), "dispatcher")
        client = client_from(app, "127.0.0.9")
        headers = auth(client, desk)

        def post(text: str) -> None:
            response = client.post("/api/v1/t/620602/routing/suggest", headers=headers, json={"text": text})
            assert response.status_code == 200, response.get_json()

        def baseline(_text: str) -> None:
            assert client.get("/api/v1/t/620602", headers=headers).status_code == 200

        cold = measure(post, texts, 1)
        measure(post, texts, 100)  # warm-up
        api_timings = measure(post, texts, args.requests)
        baseline_timings = measure(baseline, texts, min(args.requests, 500))

    print(f"synthetic catalogue: {len(categories)} level-2 categories, {LEVEL1} groups, {UNITS} units, "
          f"{sum(len(c['keywords']) for c in categories)} keywords; queries: {len(texts)} labelled call texts")
    print(f"index build (in memory): {build_ms:.1f} ms; first API request (builds the index): {cold[0]:.1f} ms")
    print(describe("engine Index.suggest", engine_timings))
    print(describe("API POST /routing/suggest", api_timings))
    print(describe("same stack, GET /api/v1/t/<code> (token, gate, one row)", baseline_timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
