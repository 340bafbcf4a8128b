#!/usr/bin/env bash
# perpcore's contracts from a fresh clone: installs the pinned toolchain from package-lock.json (forge, anvil,
# solcjs, OpenZeppelin, forge-std) when node_modules is missing or older than the lockfile, then runs
# `forge build` and `forge test` from this directory (the Foundry root). Extra arguments go to forge test,
# e.g. ./test.sh --match-contract RiskMath -vv. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "contracts/test.sh: $tool is required (Node.js 18 or later)" >&2; exit 1; }
done

# npm writes node_modules/.package-lock.json on every install: compare the lockfile with that
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi

export PATH="$PWD/node_modules/.bin:$PATH"
forge build
forge test "$@"
