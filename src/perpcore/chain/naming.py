"""How Solidity identifiers are spelled on perpcore's Python side: snake_case for functions, parameters,
struct, error and event fields. Standard library only, so that contracts/tools/export_bindings.py can load
this file by path without building or importing perpcore.
"""

import re

__all__ = ["snake_case"]

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """A Solidity identifier in Python's spelling: ``lastDepositId`` → ``last_deposit_id``,
    ``MAX_WITHDRAWAL_DELAY`` → ``max_withdrawal_delay``, ``token_`` stays ``token_``."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()
