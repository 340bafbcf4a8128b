"""Fixtures shared by the chain tests: where the pinned anvil lives, and a skip with the reason when it
is not installed (``make test`` installs it through contracts/test.sh before pytest runs); the two
kinds of chain they run on."""

from pathlib import Path

import pytest

from perpcore.chain import InProcessChain, LocalChain

ANVIL = Path(__file__).parents[2] / "contracts" / "node_modules" / ".bin" / "anvil"


@pytest.fixture(scope="session")
def anvil_path():
    if not ANVIL.exists():
        pytest.skip(f"{ANVIL} is missing: run contracts/test.sh (make test does) to install anvil")
    return ANVIL



@pytest.fixture(scope="session", params=["anvil", "in-process"])
def make_chain(request):
    """Makes a (not yet started) chain of one kind; every test using it runs on both kinds."""
    if request.param == "anvil":
        path = request.getfixturevalue("anvil_path")
        return lambda: LocalChain(path)
    return InProcessChain
