"""The accuracy report: development sets show their misses, the independent set only its totals."""
from __future__ import annotations

from pathlib import Path

from bench.routing import accuracy
from bench.routing.accuracy import Call, Fold, Outcome


def _outcome(text: str, *, hit: bool) -> Outcome:
    return Outcome(Call(text=text, lead="水务"), ["水务" if hit else "供电"], ["停水" if hit else "停电"],
                   hit, hit, hit, None, 0.001)


def _report(folds=None, held_out_lexicon=None, **held_out) -> str:
    labelled = [_outcome("小区停水三天了", hit=True), _outcome("labelled-miss 水管爆了", hit=False)]
    return accuracy.render(outcomes=labelled, lexicon_only=labelled, ablation=labelled, held_out=held_out,
                           held_out_lexicon=held_out_lexicon, catalogue={"units": 31, "level2": 109, "keywords": 1000},
                           unresolved=[], unit_labels=accuracy.CHAPTER_3, commit="abc1234", folds=folds)


def test_the_independent_set_shows_its_totals_but_never_its_calls():
    fifth = [_outcome("fifth-miss 路灯不亮", hit=False), _outcome("fifth-hit 停水", hit=True),
             _outcome("fifth-hit 没水", hit=True)]
    report = _report(holdout4=[_outcome("fourth-miss 井盖没了", hit=False), _outcome("fourth-hit", hit=True)],
                     holdout5=fifth, held_out_lexicon={"holdout5": fifth[:1] + fifth[:1] + fifth[1:2]})
    assert "fourth-miss 井盖没了 (fourth held-out set)" in report    # now a development set: misses listed
    assert "labelled-miss 水管爆了" in report
    assert "fifth-" not in report                                   # the independent set: no call at all
    line = next(line for line in report.splitlines() if line.startswith("**Fifth held-out set**"))
    assert "as served top-1 2/3 = 66.7%" in line and "top-3 2/3 = 66.7%" in line
    assert "lexicon alone top-1 1/3 = 33.3%" in line


def test_a_set_not_measured_says_so():
    report = _report(holdout5=None)
    assert "**Fifth held-out set** (`bench/routing/holdout5_calls.toml`): not measured at this run." in report
    assert "**Fourth held-out set** (`bench/routing/holdout4_calls.toml`): not measured at this run." in report


def test_the_fourth_set_is_named_with_its_one_unbiased_measurement():
    report = _report(holdout4=[_outcome("x", hit=True)])
    fourth = next(line for line in report.splitlines() if line.startswith("**Fourth held-out set**"))
    assert "measured once at `800703d` (top-1 81.2%, top-3 88.4%)" in fourth
    assert "training data of the text model" in fourth
    assert "| `00e2b24` |" in report


def test_tuning_runs_can_leave_the_independent_set_unread():
    _, paths = accuracy.parse(["--without-holdout5"])
    assert paths["holdout5"] is None
    _, paths = accuracy.parse(["--holdout5", "/nonexistent"])
    assert paths["holdout5"] == Path("/nonexistent")
    _, paths = accuracy.parse([])
    assert paths["holdout5"].name == "holdout5_calls.toml" and paths["holdout4"].name == "holdout4_calls.toml"


def test_the_cross_validation_reports_each_fold_and_its_choice():
    grid = {(w, b): (0, 0) for w in accuracy.GRID_WEIGHTS for b in accuracy.GRID_BRINGS_IN}
    folds = [Fold(name, 10, 1.0, (8, 9), {**grid, (0.0, 1.01): (7, 9), (16.0, 0.4): (9, 10)})
             for name in ("labelled", "holdout4")]
    assert accuracy.choose(folds) == (16.0, 0.4)
    report = _report(folds=folds)
    assert "**Chosen: weight 16, bring-in 0.4**" in report
    assert "| holdout4 | 10 | 70.0% | 90.0% | 80.0% | 90.0% | **90.0%** | **100.0%** | 1.0 s |" in report
    assert "Not run" in _report()
