"""The build under test is the one the test command meant to test, and it ships what it promises."""

import os
from pathlib import Path

import perpcore


def test_the_suite_runs_on_the_build_it_was_asked_to():
    expect_debug = os.environ.get("PERPCORE_EXPECT_DEBUG") == "1"
    assert perpcore.DEBUG_BUILD is expect_debug


def test_the_installed_package_carries_stubs_and_the_typed_marker():
    root = Path(perpcore.__file__).parent
    assert (root / "py.typed").exists()
    for module in ("_book", "_margin", "_funding", "_results", "_engine"):
        assert (root / f"{module}.pyi").exists()
        assert (root / f"{module}.pxd").exists()
    assert (root / "_convert.pxd").exists() and (root / "_fixedpoint.pxd").exists()
