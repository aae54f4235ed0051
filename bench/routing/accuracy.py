"""`python -m bench.routing.accuracy`: lead-unit accuracy of routing suggestions on the labelled calls.

Creates a throwaway database on the DATABASE_URL server (or an embedded one), provisions a
tenant from the Liangzhou template, runs every call of labelled_calls.toml and of the held-out
sets through the suggester exactly as the API does, and writes top-1 / top-3 lead-unit accuracy
(overall, per unit, per tag, and every miss of the development sets) to docs/routing-accuracy.md.

The calls are measured, never learned from: this module writes no example and trains no model,
and it refuses to report if the tenant holds any. The fourth held-out set is the independent
estimate: its totals are reported, its calls and misses never (not in the report, not on stdout),
so that reading the report cannot steer tuning towards it.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.settings import PROJECT_ROOT

LABELLED = Path(__file__).with_name("labelled_calls.toml")


@dataclass(frozen=True)
class HeldOut:
    """A held-out set of calls: where it lives, what it is now, and whether its misses may be shown."""

    key: str
    title: str
    path: Path
    standing: str          # what the set is and whether it still measures anything unbiased
    shows_misses: bool     # False for an independent set: its misses would leak into tuning


# Every held-out set but the last has had its misses read while changing the engine, so each is
# development data now; their first (unbiased) measurement is kept in `standing` and in HISTORY.
FIRST = HeldOut("holdout", "First held-out set", Path(__file__).with_name("holdout_calls.toml"),
                "written after the first measurement; held out until the generalisation round, which read "
                "their misses, so they are development data now", shows_misses=True)
SECOND = HeldOut("holdout2", "Second held-out set", Path(__file__).with_name("holdout2_calls.toml"),
                 "written by someone who had not seen the engine; measured once as the independent estimate "
                 "(top-1 77.8%, top-3 88.9%), then its misses were read in the situation round, so it is "
                 "development data now", shows_misses=True)
THIRD = HeldOut("holdout3", "Third held-out set", Path(__file__).with_name("holdout3_calls.toml"),
                "independent, written by someone who had not seen the engine; measured once at `00e2b24` "
                "(top-1 82.6%, top-3 90.3%); read in round 3, so development data from now on", shows_misses=True)
# The fourth: written independently while round 3 was under way and run once by someone else. Measured
# only when the file exists; totals only.
FOURTH = HeldOut("holdout4", "Fourth held-out set", Path(__file__).with_name("holdout4_calls.toml"),
                 "independent, written by someone who had not seen the engine; its calls and misses are not "
                 "shown anywhere, so that it stays an unbiased estimate", shows_misses=False)
DEVELOPMENT_SETS = (FIRST, SECOND, THIRD)
# The paths by their old names, for the other benchmarks that read the calls (latency, incidents load).
HOLDOUT, HOLDOUT2, HOLDOUT3 = FIRST.path, SECOND.path, THIRD.path
REPORT = PROJECT_ROOT / "docs" / "routing-accuracy.md"
TOP = 3

# Earlier runs of this report, kept by hand so that tuning stays visible: (commit, what was run, result).
HISTORY = [
    ("f21d22d", "first run: the labelled set committed before the template landed, engine and lexicon as first "
                "written; nothing tuned on this catalogue or set", "top-1 82.5%, top-3 89.7% (catalogue only: "
                "74.8% / 87.2%)"),
    ("f038829", "after one round of changes made while reading this set's misses: a lexicon concept's synonyms "
                "count once per category; a phrase found whole is not counted again through its words; a wider "
                "stopword list; the lexicon's one police concept split into fights, theft and fraud, fire, "
                "traffic and other offences (some of its colloquialisms first seen here as misses). Parameter "
                "sweeps (field weights, bigram, phrase and concept weights, BM25 b) moved top-1 by at most 1 call, "
                "so parameters were left as first written", "top-1 85.9%, top-3 92.3%"),
    ("8cf2f4c+ea80c80", "generalisation round, with BOTH the labelled and the held-out set used as development "
                        "data (their misses were read), so neither score is an unbiased estimate any more: a "
                        "lexicon term found inside a keyword or name counts for that category; a wider lexicon of "
                        "colloquial and misspelled forms; over-broad rules narrowed (堵了, 死人, 电线/电缆, 电话…"
                        "打不通); template keywords and descriptions. Before this round the held-out set scored "
                        "top-1 63.9%, top-3 77.0%. The unbiased figure is the independent set "
                        "(`holdout2_calls.toml`), run once", "top-1 97.9%, top-3 100.0% (held-out set: 95.1% / 100.0%); "
                        "both tuned-on, so optimistic"),
    ("607ff2c+", "situation round, with all three sets as development data (the second held-out set's misses "
                 "were read, so it is no longer independent): a situation lexicon for calls that name no "
                 "department (violence and weapons, theft, a family member gone, crashes, fire; burst mains, tap "
                 "water, heating, lifts, electric boxes, wires in trees; wages, deposits, contracts; prepaid "
                 "shops, renovation firms, used cars, prices; hawkers, encroachment, park furniture, holes, "
                 "poultry dying); a life at risk counts the police-attended categories more; homophone "
                 "tolerance by pinyin; grammar-fragment character pairs and 打不通/不通 dropped as evidence; "
                 "吵, 司机/货车, 学车 narrowed; a clause is a problem of its own only when it names one. Before "
                 "this round the second held-out set scored top-1 77.8%, top-3 88.9%. The unbiased figure will "
                 "be a new independent set, run once by someone else",
     "top-1 98.3%, top-3 100.0% (held-out set: 96.7% / 100.0%; second held-out set 96.9% / 100.0%); all "
     "tuned-on, so optimistic"),
    ("00e2b24", "the third held-out set (`holdout3_calls.toml`, 258 calls written by someone who had not seen "
                "the engine) measured once, the engine unchanged since the situation round: the unbiased "
                "estimate of that round", "third held-out set: top-1 213/258 = 82.6%, top-3 233/258 = 90.3% "
                "(labelled set unchanged: 98.3% / 100.0%)"),
    ("2b7821b..", "round 3, with all four sets as development data (the third held-out set's misses were read, so "
                  "it is no longer independent and its score below says nothing about unseen calls): for each miss "
                  "a family of phrasings, written from how people talk rather than copied from the call: fraud by "
                  "phone or transfer and tampered cash machines, hit-and-run, many hurt and more doctors asked for, "
                  "many dead; appliances that burst and counterfeit production (质监), jewellery purity and goods "
                  "held for more money (工商), gouging and sellers raising together (物价); flash floods into a "
                  "village, a street or yard gone dark and the electricity bill, no gas on the stove, boilers by "
                  "their symptoms, burst mains said without 水; dust and machine noise; gambling, drugs, debt "
                  "threats, dragging children; guides demanding money, teachers' abuse, complaints about a unit "
                  "sent; rural roads (交通) apart from city streets; 么 read as 没 (Liangzhou speech). A negated or "
                  "unreachable phrase (点不着火, 打120都打不出去) is no evidence; a named telecom company's own "
                  "categories come before another company's. Over-broad rules narrowed (小树林, 夜市, 动手 in 移动手机, "
                  "呛死人, a hypothetical crash). Before this round the third held-out set scored top-1 82.6%, top-3 "
                  "90.3%. The unbiased figure will be the fourth held-out set (`holdout4_calls.toml`), run once by "
                  "someone else",
     "top-1 99.6%, top-3 100.0% (held-out set 98.4% / 100.0%; second held-out set 96.9% / 100.0%; third "
     "held-out set 100.0% / 100.0%); all tuned-on, so optimistic"),
]


@dataclass
class Call:
    text: str
    lead: str
    also: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    call: Call
    leads: list[str]          # lead unit short names of the suggestions, best first
    categories: list[str]     # their category names
    hit1: bool                # first suggestion's lead is the label or an accepted alternate
    hit1_strict: bool         # ... is the label itself
    hit3: bool                # any of the first three
    fallback: str | None
    seconds: float


def load(path: Path = LABELLED) -> tuple[list[Call], dict[str, list[str]]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    # The expected lead unit is `lead` in the first two sets and may be `unit` in others; `also`, `tags`
    # and `note` are optional.
    calls = [Call(text=c["text"], lead=c["lead"] if "lead" in c else c["unit"], also=list(c.get("also", [])),
                  tags=list(c.get("tags", []))) for c in data.get("call", [])]
    return calls, {label: list(names) for label, names in data.get("aliases", {}).items()}


def label_matcher(units: list[dict], aliases: dict[str, list[str]]):
    """label -> ids of the units it names: equal to the short name, or part of the name, or an alias."""
    def ids(label: str) -> set[int]:
        fragments = [label, *aliases.get(label, [])]
        return {u["id"] for u in units
                if any(f == u["short_name"] or f in u["name"] for f in fragments)}
    return ids


def evaluate(*, tenant, calls: list[Call], aliases: dict[str, list[str]], use_lexicon: bool = True) -> list[Outcome]:
    """Every call through the suggester (in the tenant's scope and an app context)."""
    from sqlalchemy import select

    from app.blueprints.routing import service
    from app.blueprints.units.models import Unit
    from app.extensions import db

    units = [{"id": u.id, "name": u.name, "short_name": u.short_name}
             for u in db.session.execute(select(Unit)).scalars()]
    ids = label_matcher(units, aliases)
    outcomes = []
    for call in calls:
        started = time.perf_counter()
        if use_lexicon:
            answer = service.suggest(tenant=tenant, text=call.text, limit=TOP)
            result, fallback = answer["suggestions"], answer["fallback"]
            leads = [(s["lead_unit"] or {}).get("id") for s in result]
            categories = [s["category"]["name"] for s in result]
        else:
            suggestion = service.index_for(tenant.id).suggest(call.text, limit=TOP, use_lexicon=False)
            leads = [(s.doc.lead_unit or {}).get("id") for s in suggestion.results]
            categories = [s.doc.name for s in suggestion.results]
            fallback = suggestion.fallback
        seconds = time.perf_counter() - started
        strict = ids(call.lead)
        accepted = strict.union(*(ids(a) for a in call.also))
        names = {u["id"]: u["short_name"] for u in units}
        outcomes.append(Outcome(call, [names.get(i, "-") for i in leads], categories,
                                bool(leads) and leads[0] in accepted, bool(leads) and leads[0] in strict,
                                any(i in accepted for i in leads[:TOP]), fallback,
                                seconds))
    return outcomes


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} = {100 * hits / total:.1f}%" if total else "–"


def summary(outcomes: list[Outcome]) -> dict:
    n = len(outcomes)
    return {"n": n, "top1": sum(o.hit1 for o in outcomes), "top1_strict": sum(o.hit1_strict for o in outcomes),
            "top3": sum(o.hit3 for o in outcomes)}


def _held_out_line(held: HeldOut, outcomes: list[Outcome] | None) -> str:
    relative = held.path.relative_to(PROJECT_ROOT) if held.path.is_relative_to(PROJECT_ROOT) else held.path
    if outcomes is None:
        return f"**{held.title}** (`{relative}`): not measured at this run."
    s = summary(outcomes)
    return (f"**{held.title}** (`{relative}`, {s['n']} calls; {held.standing}): "
            f"top-1 {rate(s['top1'], s['n'])}, top-1 strict {rate(s['top1_strict'], s['n'])}, "
            f"top-3 {rate(s['top3'], s['n'])}.")


def render(*, outcomes: list[Outcome], ablation: list[Outcome], held_out: dict[str, list[Outcome] | None],
           catalogue: dict, unresolved: list[str], unit_labels: list[str], commit: str) -> str:
    """The report. `held_out` maps each HeldOut key to its outcomes (None: not measured); the misses of a
    set that does not show them (the independent one) are never written, only its totals."""
    total = summary(outcomes)
    bare = summary(ablation)
    ms = sorted(o.seconds * 1000 for o in outcomes)
    lines = [
        "# Routing suggestions: lead-unit accuracy",
        "",
        f"Generated by `python -m bench.routing.accuracy` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"at commit `{commit}`. Do not edit by hand: rerun the command.",
        "",
        f"- Labelled calls: {total['n']} (`bench/routing/labelled_calls.toml`), written by hand from how citizens "
        "phone 110/12345, not from the catalogue; never used for learning (the run asserts the tenant has no "
        "learned example or model).",
        f"- Catalogue: the `liangzhou` template as provisioned at this commit: {catalogue['units']} units, "
        f"{catalogue['level2']} active level-2 categories, {catalogue['keywords']} keywords.",
        "- A suggestion is a hit when its lead unit (主办) is the label or one of the call's accepted alternates "
        "(`also`); *strict* counts the label only. Learned weights: none (a fresh tenant).",
        "",
        "| measure | with lexicon (as served) | catalogue only (no lexicon) |",
        "|---|---|---|",
        f"| top-1 | {rate(total['top1'], total['n'])} | {rate(bare['top1'], bare['n'])} |",
        f"| top-1 strict | {rate(total['top1_strict'], total['n'])} | {rate(bare['top1_strict'], bare['n'])} |",
        f"| top-3 | {rate(total['top3'], total['n'])} | {rate(bare['top3'], bare['n'])} |",
        "",
        "Development sets: the labelled calls and every held-out set whose misses have been read. Their "
        "scores are optimistic: the engine was changed while reading them.",
        "",
    ]
    for held in DEVELOPMENT_SETS:
        lines += [_held_out_line(held, held_out.get(held.key)), ""]
    lines += ["Independent estimate (its calls and misses are never shown):", "",
              _held_out_line(FOURTH, held_out.get(FOURTH.key)), ""]
    lines += [
        f"In-process time per call (index warm, includes the catalogue version query): p50 "
        f"{statistics.median(ms):.2f} ms, max {ms[-1]:.2f} ms.",
        "",
    ]
    lines += ["## History of this measurement", "", "| commit | run | result on the labelled set |", "|---|---|---|"]
    lines += [f"| `{c}` | {what} | {result} |" for c, what, result in HISTORY]
    lines += [""]
    if unresolved:
        lines += ["**Labels that name no unit of this catalogue** (their calls count as misses): "
                  + ", ".join(unresolved), ""]
    lines += ["## Per unit (by label)", "", "| unit | calls | top-1 | top-3 |", "|---|---|---|---|"]
    by_unit: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_unit[outcome.call.lead].append(outcome)
    for label in unit_labels:
        group = by_unit.get(label, [])
        s = summary(group)
        lines.append(f"| {label} | {s['n']} | {rate(s['top1'], s['n'])} | {rate(s['top3'], s['n'])} |")
    lines += ["", "## Per kind of call (tags)", "", "| tag | calls | top-1 | top-3 |", "|---|---|---|---|"]
    by_tag: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        for tag in outcome.call.tags or ["plain"]:
            by_tag[tag].append(outcome)
    for tag in sorted(by_tag):
        s = summary(by_tag[tag])
        lines.append(f"| {tag} | {s['n']} | {rate(s['top1'], s['n'])} | {rate(s['top3'], s['n'])} |")
    lines += ["", "## Misses (top-1) of the development sets", "",
              "| call | label (also) | suggested leads | suggested categories |", "|---|---|---|---|"]
    marked = [(o, "") for o in outcomes]
    for held in DEVELOPMENT_SETS:
        if held.shows_misses:
            marked += [(o, f" ({held.title.lower()})") for o in held_out.get(held.key) or []]
    for o, where in marked:
        if not o.hit1:
            also = f" ({', '.join(o.call.also)})" if o.call.also else ""
            mark = "" if o.hit3 else " **not in top-3**"
            lines.append(f"| {o.call.text}{where} | {o.call.lead}{also} | {' / '.join(o.leads) or '–'}{mark} | "
                         f"{' / '.join(o.categories) or '–'} |")
    return "\n".join(lines) + "\n"


# Chapter 3's units in its order, as labels (电信/移动/联通 share one article).
CHAPTER_3 = ["公安", "督查办", "民政", "物价", "城市执法", "卫计", "国土", "安监", "食药监", "工商", "人社", "环保",
             "教育", "建设", "旅游", "交通", "运管", "农牧", "畜牧兽医", "水务", "林业", "文广", "商务", "质监", "市政",
             "供电", "电信", "移动", "联通", "天然气", "其他"]


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, dict[str, Path | None]]:
    """The arguments, and each held-out set's path by key (None: not to be read at all)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPORT)
    parser.add_argument("--labelled", type=Path, default=LABELLED)
    for held in DEVELOPMENT_SETS:
        parser.add_argument(f"--{held.key}", type=Path, default=held.path,
                            help=f"the {held.title.lower()} (a development set); measured only when the file exists")
    parser.add_argument(f"--{FOURTH.key}", type=Path, default=FOURTH.path,
                        help="the fourth held-out set, the independent estimate: measured only when the file "
                             "exists, totals only (its calls and misses are never printed)")
    parser.add_argument(f"--without-{FOURTH.key}", action="store_true",
                        help="do not read or measure the fourth held-out set (use this while tuning)")
    args = parser.parse_args(argv)
    paths = {held.key: getattr(args, held.key) for held in DEVELOPMENT_SETS}
    paths[FOURTH.key] = None if args.without_holdout4 else args.holdout4
    return args, paths


def main(argv: list[str] | None = None) -> int:
    args, paths = parse(argv)

    from sqlalchemy import func, select

    from app.blueprints.catalogue.models import Category
    from app.blueprints.routing.models import RoutingExample, RoutingModel
    from app.blueprints.units.models import Unit
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant
    from bench.routing.harness import create_tenant, throwaway_app

    calls, aliases = load(args.labelled)
    held_calls = {key: load(path) for key, path in paths.items() if path is not None and path.exists()}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    with throwaway_app("routing_accuracy") as app:
        tenant_id = create_tenant(app)
        with app.app_context(), tenant_scope([tenant_id]):
            tenant = db.session.get(Tenant, tenant_id)
            learned = db.session.execute(select(func.count()).select_from(RoutingExample)).scalar_one() + \
                db.session.execute(select(func.count()).select_from(RoutingModel)).scalar_one()
            if learned:
                raise SystemExit("the accuracy tenant holds learned examples or models: refusing to report")
            level2 = db.session.execute(select(Category).where(Category.parent_id.is_not(None),
                                                               Category.is_active)).scalars().all()
            units = [{"id": u.id, "name": u.name, "short_name": u.short_name}
                     for u in db.session.execute(select(Unit)).scalars()]
            catalogue = {"units": len(units), "level2": len(level2),
                         "keywords": sum(len(c.keywords or []) for c in level2)}
            ids = label_matcher(units, aliases)
            # Only the development sets' labels are listed by name: the independent set's are its own business.
            shown = calls + [c for key, (more, _) in held_calls.items() if key != FOURTH.key for c in more]
            labels = sorted({c.lead for c in shown} | {a for c in shown for a in c.also})
            unresolved = [label for label in labels if not ids(label)]
            from app.blueprints.routing import service

            service.index_for(tenant_id)  # build the index once, as the first request of a process would
            outcomes = evaluate(tenant=tenant, calls=calls, aliases=aliases)
            ablation = evaluate(tenant=tenant, calls=calls, aliases=aliases, use_lexicon=False)
            held_out: dict[str, list[Outcome] | None] = {key: None for key in paths}
            for key, (more, more_aliases) in held_calls.items():
                held_out[key] = evaluate(tenant=tenant, calls=more, aliases={**aliases, **more_aliases})
            db.session.rollback()
    unit_labels = CHAPTER_3 + sorted({c.lead for c in calls} - set(CHAPTER_3))
    report = render(outcomes=outcomes, ablation=ablation, held_out=held_out, catalogue=catalogue,
                    unresolved=unresolved, unit_labels=unit_labels, commit=commit)
    args.output.write_text(report, encoding="utf-8")
    s = summary(outcomes)
    parts = [f"{s['n']} labelled calls: top-1 {rate(s['top1'], s['n'])}, top-3 {rate(s['top3'], s['n'])}"]
    for held in (*DEVELOPMENT_SETS, FOURTH):
        if held_out.get(held.key) is not None:
            h = summary(held_out[held.key])
            parts.append(f"{held.title.lower()} ({h['n']}): top-1 {rate(h['top1'], h['n'])}, "
                         f"top-3 {rate(h['top3'], h['n'])}")
    print("; ".join(parts) + f" -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
