"""Deferred pair checks (``render.splat.pair_checks``) without Triton: the scope and the totals."""

from __future__ import annotations

import torch

from render.splat.pair_checks import DeferredTotal, current, deferred_pair_checks


def test_a_deferred_total_keeps_the_largest_copy_since_it_was_last_taken() -> None:
    """One frame may render a runner twice: the first render's overflow is not hidden by a
    second, smaller total."""
    total = DeferredTotal(torch.device("cpu"))
    assert total.take() == 0
    counter = torch.tensor([900], dtype=torch.int64)
    total.copy(counter)
    counter.fill_(40)  # the device counter is rewritten by the next render
    total.copy(counter)
    assert total.take() == 900
    assert total.take() == 0
    total.copy(counter)
    assert total.take() == 40


def test_checks_run_once_and_scopes_nest() -> None:
    runs: list[str] = []

    def check(name: str, overflowed: bool) -> bool:
        runs.append(name)
        return overflowed

    assert current() is None
    with deferred_pair_checks() as outer:
        outer.add(lambda: check("fine", False))
        with deferred_pair_checks() as inner:
            assert current() is inner
            inner.add(lambda: check("grew", True))
            assert inner.overflowed() and not inner.overflowed()
        assert current() is outer
        assert not outer.overflowed()
    assert current() is None and runs == ["grew", "fine"]
