"""The contracts' shared test vectors (contracts/test/vectors/risk_math.json, checked against
RiskMath.sol by forge) are exactly what perpcore's reference margin engine computes today: a change
to the Python risk math that the Solidity side has not followed fails here."""

import os
import subprocess
import sys
from pathlib import Path

import perpcore

GENERATOR = Path(__file__).parents[2] / "contracts" / "test" / "vectors" / "generate.py"


def test_the_risk_math_vectors_match_the_reference_margin_engine():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(perpcore.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
