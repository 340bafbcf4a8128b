"""The contracts' shared test vectors (tests/vectors/risk_math.json, checked against RiskMath.sol by
forge, and tests/vectors/funding.json, checked against PositionMath.sol's funding settlement) are
exactly what perpcore's reference computes today, and the native core agrees with every one: a
change to the Python risk or funding math that the Solidity side has not followed fails here."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import perpcore

VECTORS = Path(__file__).parents[1] / "vectors"
GENERATOR = VECTORS / "generate.py"


def test_the_vectors_match_the_reference_margin_and_funding_math():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(perpcore.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


NATIVE = {
    "atRiskNotional": perpcore.at_risk_notional_qq,
    "imfPpmDown": perpcore.imf_ppm,
    "initialRequirementUp": perpcore.initial_requirement_qq,
    "maintenanceRequirementUp": perpcore.maintenance_requirement_qq,
    "feeUp": perpcore.fee_qq,
    "unrealizedPnl": perpcore.unrealized_pnl_qq,
    "applyFill": perpcore.apply_fill,
    "fundingPaymentUp": lambda size, delta: perpcore.funding_payment_qq(size, delta, 0),
}


@pytest.mark.parametrize("document", ["risk_math.json", "funding.json"])
def test_the_native_core_gives_every_shared_vector(document):
    functions = json.loads((VECTORS / document).read_text())["functions"]
    checked = 0
    for name, group in functions.items():
        native = NATIVE.get(name)
        if native is None:  # settleFunding: the native engine settles inside the exchange
            continue
        for case in group["cases"]:
            result = native(*case["args"])
            got = list(result) if isinstance(result, tuple) else [result]
            assert got == case["expect"], (name, case)
            checked += 1
        for revert in group.get("reverts", ()):
            error = perpcore.InvalidInput if revert["error"] == "InvalidInput" else OverflowError
            with pytest.raises(error):
                native(*revert["args"])
            checked += 1
    assert checked > 200
