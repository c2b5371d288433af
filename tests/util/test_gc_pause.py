"""gc_paused: the cyclic collector is off inside the block and back as it was afterwards."""

from __future__ import annotations

import gc

import pytest

from athanor.util.gc_pause import gc_paused


def test_paused_inside_and_restored_after_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        assert not gc.isenabled()
        raise ValueError("boom")
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            with gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_blocks_restore_only_at_the_outer_end() -> None:
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_many_objects_made_while_paused_skip_the_young_collections() -> None:
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        with gc_paused():
            made: list[list[int]] = [[] for _ in range(20_000)]
        made.extend([] for _ in range(100))
    finally:
        gc.callbacks.remove(seen)
    assert collections == []
    assert gc.get_freeze_count() == 0
    assert gc.is_tracked(made[0])
    # A cycle made while paused is still found, by a full collection.
    with gc_paused():
        cycle: list[object] = []
        cycle.append(cycle)
        made.extend([] for _ in range(20_000))
    del cycle
    assert gc.collect() >= 1


def test_objects_the_application_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            made = [[] for _ in range(20_000)]
        assert gc.get_freeze_count() == frozen
        assert len(made) == 20_000
    finally:
        gc.unfreeze()
