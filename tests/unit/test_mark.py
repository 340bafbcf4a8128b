"""The mark price service and the market lifecycle, one guard and one transition at a time, plus
hypothesis properties of the guards over random oracle paths."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perpcore
from perpcore.lifecycle import MarketLifecycle, MarketPhase
from perpcore.mark import MarkParams, MarkPriceService

P = MarkParams(epsilon_ppm=1_000, max_deviation_ppm=50_000, ema_time_constant_s=30,
               stale_after_s=60)


def service(initial=500_000, params=P):
    return MarkPriceService("RAIN", initial, params=params, now=0)


def test_a_price_outside_the_live_bounds_is_clamped_to_epsilon():
    s = service(initial=2_000, params=MarkParams(epsilon_ppm=1_000, max_deviation_ppm=10**6,
                                                 ema_time_constant_s=0))

    assert s.update(0, 1, 1).index_ppm == 1_000
    assert s.update(1_000_000, 2, 2).index_ppm == 999_000
    assert s.mark_at(2) == 999_000  # no smoothing: the mark is the index


def test_one_update_moves_the_index_by_at_most_the_deviation_cap():
    s = service()

    e = s.update(900_000, 5, 5)

    assert e.index_ppm == 550_000 and e.accepted
    assert s.update(100_000, 6, 6).index_ppm == 500_000  # absolute points, both directions


def test_the_mark_is_an_ema_over_input_time_rounded_toward_the_index():
    s = service()

    # dt 10 s, tau 30 s: weight 10/40 on the new index 520_000
    assert s.update(520_000, 10, 10).mark_ppm == 505_000
    # dt 30 s: weight 1/2 of the 15_000 gap
    assert s.update(520_000, 40, 40).mark_ppm == 512_500
    # a steady input is reached exactly (the move rounds up), never overshot
    for t in range(41, 400):
        s.update(520_000, t, t)
    assert s.mark_at(400) == 520_000


def test_a_stale_oracle_holds_the_last_good_values_and_is_flagged():
    s = service()
    s.update(520_000, 10, 10)

    assert not s.is_stale(70)
    late = s.update(600_000, 5, 75)  # older than the last accepted reading: ignored
    assert not late.accepted and late.index_ppm == 520_000
    assert s.is_stale(71)
    old = s.update(600_000, 11, 80)  # 69 s old on arrival: stale, ignored
    assert not old.accepted and old.stale and s.index_ppm == 520_000
    fresh = s.update(530_000, 80, 80)
    assert fresh.accepted and not fresh.stale
    assert fresh.stream == "mark_price.event" and fresh.phase == MarketPhase.ACTIVE


def test_resolution_interpolates_linearly_to_exactly_the_resolved_value():
    for resolved in (0, 1_000_000):
        s = service(initial=400_000, params=MarkParams(ema_time_constant_s=0))
        e = s.begin_resolution(resolved, now=100, window_s=60)

        assert e.phase == MarketPhase.RESOLVING and e.mark_ppm == 400_000
        assert s.mark_at(100) == 400_000 and s.mark_at(50) == 400_000
        assert s.mark_at(130) == (400_000 + resolved) // 2
        assert s.mark_at(160) == resolved and s.mark_at(10_000) == resolved
        assert not s.update(700_000, 150, 150).accepted  # the oracle no longer moves it
        assert not s.is_stale(10_000)


def test_a_zero_window_resolves_at_once():
    s = service()
    s.begin_resolution(1_000_000, now=5, window_s=0)
    assert s.mark_at(5) == 1_000_000


@pytest.mark.parametrize("kw", [dict(epsilon_ppm=0), dict(epsilon_ppm=500_000),
                                dict(max_deviation_ppm=0), dict(ema_time_constant_s=-1),
                                dict(stale_after_s=0)])
def test_nonsense_parameters_are_refused(kw):
    with pytest.raises(perpcore.InvalidInput):
        MarkParams(**kw)


def test_bad_readings_raise_and_change_nothing():
    s = service()
    with pytest.raises(perpcore.InvalidInput):
        s.update(1_000_001, 1, 1)
    with pytest.raises(perpcore.InvalidInput):
        s.update(500_000, 2, 1)  # from the future
    with pytest.raises(perpcore.InvalidType):
        s.update(0.5, 1, 1)
    assert (s.index_ppm, s.mark_ppm, s.source_ts) == (500_000, 500_000, 0)


@settings(max_examples=150, deadline=None)
@given(start=st.integers(0, 1_000_000),
       path=st.lists(st.tuples(st.integers(0, 1_000_000), st.integers(0, 90)), max_size=40),
       tau=st.integers(0, 120))
def test_guards_hold_on_any_oracle_path(start, path, tau):
    params = MarkParams(epsilon_ppm=2_000, max_deviation_ppm=30_000, ema_time_constant_s=tau,
                        stale_after_s=60)
    s = service(initial=start, params=params)
    now = 0
    for raw, dt in path:
        now += dt
        index0, mark0 = s.index_ppm, s.mark_ppm
        e = s.update(raw, now, now)
        assert 2_000 <= e.index_ppm <= 998_000 and 2_000 <= e.mark_ppm <= 998_000
        assert abs(e.index_ppm - index0) <= 30_000
        # the mark moves toward the new index and never past it
        assert min(mark0, e.index_ppm) <= e.mark_ppm <= max(mark0, e.index_ppm)
        if not e.accepted:
            assert (e.index_ppm, e.mark_ppm) == (index0, mark0)


@settings(max_examples=100, deadline=None)
@given(frm=st.integers(1_000, 999_000), to=st.sampled_from([0, 1_000_000]),
       window=st.integers(1, 10_000), times=st.lists(st.integers(0, 20_000), max_size=30))
def test_the_interpolation_is_monotone_and_ends_exactly(frm, to, window, times):
    s = service(initial=frm, params=MarkParams(ema_time_constant_s=0))
    s.begin_resolution(to, now=0, window_s=window)
    marks = [s.mark_at(t) for t in sorted(times)]
    assert marks == sorted(marks, reverse=to < frm)
    assert s.mark_at(window) == to and s.mark_at(0) == frm


# ------------------------------------------------------------------------------- lifecycle

def test_the_lifecycle_walks_its_phases_in_order_with_an_event_each():
    lc = MarketLifecycle("RAIN")
    events = [lc.advance(p, now=i) for i, p in enumerate(
        [MarketPhase.ACTIVE, MarketPhase.RESOLVING, MarketPhase.RESOLVED, MarketPhase.SETTLED])]

    assert [(e.from_phase, e.to_phase) for e in events] == [
        (MarketPhase.DRAFT, MarketPhase.ACTIVE), (MarketPhase.ACTIVE, MarketPhase.RESOLVING),
        (MarketPhase.RESOLVING, MarketPhase.RESOLVED), (MarketPhase.RESOLVED, MarketPhase.SETTLED)]
    assert {e.stream for e in events} == {"market.event"}


@pytest.mark.parametrize("frm, to", [
    (MarketPhase.DRAFT, MarketPhase.RESOLVING), (MarketPhase.ACTIVE, MarketPhase.ACTIVE),
    (MarketPhase.ACTIVE, MarketPhase.DRAFT), (MarketPhase.RESOLVED, MarketPhase.ACTIVE),
    (MarketPhase.SETTLED, MarketPhase.DRAFT), (MarketPhase.ACTIVE, MarketPhase.SETTLED)])
def test_an_illegal_transition_raises_and_changes_nothing(frm, to):
    lc = MarketLifecycle("RAIN", frm)
    with pytest.raises(perpcore.IllegalTransition):
        lc.advance(to, now=0)
    assert lc.phase == frm


def test_what_each_phase_allows():
    allows = {p: (p.allows_new_exposure, p.allows_trading, p.runs_funding) for p in MarketPhase}
    assert allows == {
        MarketPhase.DRAFT: (False, False, False),
        MarketPhase.ACTIVE: (True, True, True),
        MarketPhase.RESOLVING: (False, True, False),
        MarketPhase.RESOLVED: (False, False, False),
        MarketPhase.SETTLED: (False, False, False),
    }
