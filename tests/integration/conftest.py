"""Fixtures shared by the chain tests: where the pinned anvil lives, and a skip with the reason when it
is not installed (``make test`` installs it through contracts/test.sh before pytest runs)."""

from pathlib import Path

import pytest

ANVIL = Path(__file__).parents[2] / "contracts" / "node_modules" / ".bin" / "anvil"


@pytest.fixture(scope="session")
def anvil_path():
    if not ANVIL.exists():
        pytest.skip(f"{ANVIL} is missing: run contracts/test.sh (make test does) to install anvil")
    return ANVIL
