"""The committed bindings (``bindings/*.json``) and the typed wrappers generated from them
(``src/perpcore/chain/contracts.py``) match the contracts' sources, and the installed package ships
exactly those bindings. The cheap check compares source hashes and always runs; the rebuild compares a
fresh ``forge build``'s ABI and bytecode and needs forge in ``contracts/node_modules`` (``make test``
installs it before pytest)."""

import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
EXPORT = REPO / "contracts" / "tools" / "export_bindings.py"
FORGE = REPO / "contracts" / "node_modules" / ".bin" / "forge"


def run_check(script: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), "--check", *flags], capture_output=True, text=True)


def test_the_bindings_match_the_source_hashes_and_generate_the_wrappers():
    done = run_check(EXPORT)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not FORGE.exists(), reason=f"{FORGE} is missing: contracts/test.sh installs forge")
def test_a_fresh_forge_build_gives_the_committed_abi_and_bytecode():
    done = run_check(EXPORT, "--rebuild")
    assert done.returncode == 0, done.stderr


def test_every_deployable_contract_has_a_binding_and_nothing_else_does():
    names = {p.stem for p in (REPO / "bindings").glob("*.json")}
    assert {"CollateralVault", "DevUSDC", "PositionManager", "PositionMath"} <= names
    assert not {"RiskMath", "Roles"} & names  # internal-only libraries are inlined, never deployed
    for name in names:
        binding = json.loads((REPO / "bindings" / f"{name}.json").read_text())
        assert not binding["sourcePath"].startswith("src/interfaces/")
        assert binding["sourcePath"].startswith("src/libraries/") == (binding["kind"] == "library")
        # hex creation code, where a linked library's address may still be a placeholder
        assert re.fullmatch(r"0x(?:[0-9a-f]{2}|__\$[0-9a-f]{34}\$__)+", binding["bytecode"])
        assert binding["evmVersion"] == "cancun"
        for starts in binding["linkReferences"].values():
            for start in starts:
                assert re.fullmatch(r"__\$[0-9a-f]{34}\$__", binding["bytecode"][2 + 2 * start:42 + 2 * start])


def test_the_position_manager_links_position_math():
    manager = json.loads((REPO / "bindings" / "PositionManager.json").read_text())
    assert list(manager["linkReferences"]) == ["PositionMath"] and manager["linkReferences"]["PositionMath"]
    assert json.loads((REPO / "bindings" / "PositionMath.json").read_text())["kind"] == "library"


def test_the_installed_package_ships_the_committed_bindings():
    shipped = resources.files("perpcore") / "bindings"
    committed = sorted((REPO / "bindings").glob("*.json"))
    assert sorted(p.name for p in shipped.iterdir() if p.name.endswith(".json")) == [p.name for p in committed]
    for path in committed:
        assert (shipped / path.name).read_text() == path.read_text()


@pytest.fixture
def repo_copy(tmp_path):
    """What the export script reads and writes, copied, so that a test can change a source."""
    for part in ("contracts/src", "contracts/tools", "bindings", "src/perpcore/chain"):
        shutil.copytree(REPO / part, tmp_path / part)
    for part in ("contracts/foundry.toml", "contracts/package-lock.json"):
        shutil.copy(REPO / part, tmp_path / part)
    return tmp_path


def test_a_changed_source_is_drift(repo_copy):
    vault = repo_copy / "contracts" / "src" / "CollateralVault.sol"
    vault.write_text(vault.read_text().replace("7 days", "8 days"))
    done = run_check(repo_copy / "contracts" / "tools" / "export_bindings.py")
    assert done.returncode == 1
    assert "bindings/CollateralVault.json is stale" in done.stderr and "DevUSDC" not in done.stderr


def test_a_contract_without_a_binding_and_a_hand_edited_wrapper_are_drift(repo_copy):
    (repo_copy / "contracts" / "src" / "dev" / "Extra.sol").write_text(
        "// SPDX-License-Identifier: UNLICENSED\npragma solidity 0.8.37;\n\ncontract Extra {}\n")
    wrappers = repo_copy / "src" / "perpcore" / "chain" / "contracts.py"
    wrappers.write_text(wrappers.read_text() + "\n# edited by hand\n")
    done = run_check(repo_copy / "contracts" / "tools" / "export_bindings.py")
    assert done.returncode == 1
    assert "Extra (src/dev/Extra.sol) has no binding" in done.stderr
    assert "contracts.py differs from what the bindings generate" in done.stderr


def test_a_missing_library_binding_and_a_moved_placeholder_are_drift(repo_copy):
    (repo_copy / "bindings" / "PositionMath.json").unlink()
    manager = repo_copy / "bindings" / "PositionManager.json"
    binding = json.loads(manager.read_text())
    binding["linkReferences"]["PositionMath"][0] += 1
    manager.write_text(json.dumps(binding, indent=1, sort_keys=True) + "\n")
    done = run_check(repo_copy / "contracts" / "tools" / "export_bindings.py")
    assert done.returncode == 1
    assert "PositionMath (src/libraries/PositionMath.sol) has no binding" in done.stderr
    assert "bindings/PositionManager.json links PositionMath, which has no library binding" in done.stderr
    assert "bindings/PositionManager.json: link placeholders at" in done.stderr
