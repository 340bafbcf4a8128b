"""Shared test configuration: the order book and exchange implementations under test and
Hypothesis profiles.

``book_cls`` runs a test once per implementation of the order book interface: the native
``perpcore.OrderBook`` and the pure-Python twin ``perpcore.reference.ReferenceOrderBook``;
``exchange_cls`` likewise for the exchange: the native ``perpcore.Exchange`` and
``perpcore.reference.ReferenceExchange``. Both of each pair must behave identically, so every
scenario test is written against these fixtures. The references are imported unconditionally: if
one is missing or broken, the suite fails rather than skipping it.

Hypothesis profiles: ``ci`` (the default; derandomized so a run is reproducible, no deadline since
the debug build is slow, failing examples printed as reproduction blobs) and ``dev`` (random
exploration, no deadline). Select one with the environment variable ``HYPOTHESIS_PROFILE``.
"""

import os

import pytest
from hypothesis import settings

import perpcore
from perpcore.reference import ReferenceExchange, ReferenceOrderBook

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BOOK_IMPLEMENTATIONS = {
    "native": perpcore.OrderBook,
    "reference": ReferenceOrderBook,
}


@pytest.fixture(params=list(BOOK_IMPLEMENTATIONS))
def book_cls(request):
    """The order book class under test: native OrderBook or the pure-Python ReferenceOrderBook."""
    return BOOK_IMPLEMENTATIONS[request.param]


EXCHANGE_IMPLEMENTATIONS = {
    "native": perpcore.Exchange,
    "reference": ReferenceExchange,
}


@pytest.fixture(params=list(EXCHANGE_IMPLEMENTATIONS))
def exchange_cls(request):
    """The exchange class under test: native Exchange or the pure-Python ReferenceExchange."""
    return EXCHANGE_IMPLEMENTATIONS[request.param]
