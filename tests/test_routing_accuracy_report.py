"""The accuracy report: development sets show their misses, the independent set only its totals."""
from __future__ import annotations

from pathlib import Path

from bench.routing import accuracy
from bench.routing.accuracy import Call, Outcome


def _outcome(text: str, *, hit: bool) -> Outcome:
    return Outcome(Call(text=text, lead="水务"), ["水务" if hit else "供电"], ["停水" if hit else "停电"],
                   hit, hit, hit, None, 0.001)


def _report(**held_out) -> str:
    labelled = [_outcome("小区停水三天了", hit=True), _outcome("labelled-miss 水管爆了", hit=False)]
    return accuracy.render(outcomes=labelled, ablation=labelled, held_out=held_out,
                           catalogue={"units": 31, "level2": 109, "keywords": 1000}, unresolved=[],
                           unit_labels=accuracy.CHAPTER_3, commit="abc1234")


def test_the_independent_set_shows_its_totals_but_never_its_calls():
    report = _report(holdout3=[_outcome("third-miss 井盖没了", hit=False), _outcome("third-hit", hit=True)],
                     holdout4=[_outcome("fourth-miss 路灯不亮", hit=False), _outcome("fourth-hit 停水", hit=True),
                               _outcome("fourth-hit 没水", hit=True)])
    assert "third-miss 井盖没了 (third held-out set)" in report      # a development set: misses listed
    assert "labelled-miss 水管爆了" in report
    assert "fourth-" not in report                                  # the independent set: no call at all
    fourth = next(line for line in report.splitlines() if line.startswith("**Fourth held-out set**"))
    assert "top-1 2/3 = 66.7%" in fourth and "top-3 2/3 = 66.7%" in fourth


def test_a_set_not_measured_says_so():
    report = _report(holdout4=None)
    assert "**Fourth held-out set** (`bench/routing/holdout4_calls.toml`): not measured at this run." in report
    assert "**Third held-out set** (`bench/routing/holdout3_calls.toml`): not measured at this run." in report


def test_the_third_set_is_named_with_its_one_unbiased_measurement():
    report = _report(holdout3=[_outcome("x", hit=True)])
    third = next(line for line in report.splitlines() if line.startswith("**Third held-out set**"))
    assert "measured once at `00e2b24` (top-1 82.6%, top-3 90.3%)" in third
    assert "development data from now on" in third
    assert "| `00e2b24` |" in report


def test_tuning_runs_can_leave_the_independent_set_unread():
    _, paths = accuracy.parse(["--without-holdout4"])
    assert paths["holdout4"] is None
    _, paths = accuracy.parse(["--holdout4", "/nonexistent"])
    assert paths["holdout4"] == Path("/nonexistent")
    _, paths = accuracy.parse([])
    assert paths["holdout4"].name == "holdout4_calls.toml" and paths["holdout2"].name == "holdout2_calls.toml"
