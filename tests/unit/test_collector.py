"""The cycle collector held back while a screen builds many objects (services/platform/collector.py)."""

from __future__ import annotations

import gc

import pytest

from admin_app.services.platform.collector import collector_paused


def test_the_collector_is_off_inside_and_on_again_after_even_when_the_block_fails():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("the build failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
