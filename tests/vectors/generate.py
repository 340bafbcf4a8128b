"""Writes the shared test vectors of perpcore's contracts beside this file, computed by perpcore's
pure-Python reference: risk_math.json for RiskMath.sol (perpcore.reference.margin) and funding.json
for PositionMath.sol's funding settlement (perpcore.reference.funding).

Each RiskMath function has a list of cases (int64 arguments and the exact int64 results) and a list
of reverts (arguments and the exception the reference raises: InvalidInput, or OverflowError where
a result leaves int64). They cover every branch and rounding edge (exact and inexact divisions,
negative numerators, rebates, at-risk notionals beyond int64 whose requirement still fits, results
at int64's ends and one past them), YES/NO pairs (a long at p beside a short at 1e6 - p), every
kind of fill (open, increase, reduce, close, flip) and seeded random draws. The output depends on
nothing but the reference code: same code, same bytes. contracts/test/RiskMath.vectors.t.sol checks
RiskMath against every vector.

The funding vectors give a settlement's payment (size * index move / 1e6, the payer rounding up,
the receiver down), the market's dust after it and the whole quantums swept to the insurance fund,
for sizes and index moves across int64 and dust across [0, 1e6). The chain computes in int256 and
has no OverflowError: only cases the reference returns are shared (on chain, the bounded funding
delta keeps a payment far inside int64). contracts/test/PositionMath.vectors.t.sol checks them.

From the repository root:
    PYTHONPATH=src .venv/bin/python tests/vectors/generate.py          # (re)write both
    PYTHONPATH=src .venv/bin/python tests/vectors/generate.py --check  # 1 if one drifted
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import sys

from perpcore.errors import InvalidInput
from perpcore.reference import funding, margin

HERE = pathlib.Path(__file__).parent
ONE = 1_000_000
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
SEED = 20_260_601

# The Solidity name of each function, the reference function it mirrors, and its parameters.
FUNCTIONS = {
    "atRiskNotional": (margin.at_risk_notional_qq, ("size", "pricePpm")),
    "imfPpmDown": (margin.imf_ppm, ("baseImfPpm", "oiNotionalQq", "lowerCapQq", "upperCapQq")),
    "initialRequirementUp": (margin.initial_requirement_qq, ("size", "pricePpm", "imfPpm")),
    "maintenanceRequirementUp": (margin.maintenance_requirement_qq, ("size", "pricePpm", "mmfPpm")),
    "feeUp": (margin.fee_qq, ("notionalQq", "feePpm")),
    "unrealizedPnl": (margin.unrealized_pnl_qq, ("size", "openNotionalQq", "pricePpm")),
    "applyFill": (margin.apply_fill, ("size", "openNotionalQq", "fillSize", "pricePpm")),
    "fundingPaymentUp": (lambda size, delta: funding.funding_payment_qq(size, delta, 0),
                         ("size", "deltaIdx")),
    "settleFunding": (lambda size, delta, dust: funding.funding_dust_idx(size, delta, 0, dust),
                      ("size", "deltaIdx", "dustIdx")),
}
PYTHON_NAMES = {"fundingPaymentUp": "perpcore.reference.funding.funding_payment_qq",
                "settleFunding": "perpcore.reference.funding.funding_dust_idx"}

BIG = I64_MAX // ONE  # the largest size whose full notional (size * 1e6) fits int64
# sizes come in +/- pairs and prices in p / 1e6 - p pairs: each grid holds YES/NO mirror images
SIZES = [0, 1, -1, 2, -2, 3, -3, 7, -7, 1_000, -1_000, 999_999_937, -999_999_937, BIG, -BIG,
         BIG + 1, -BIG - 1, I64_MAX, I64_MIN, I64_MIN + 1]
PRICES = [0, 1, 3, 463_000, 499_999, 500_000, 500_001, 537_000, 999_997, 999_999, ONE]
# thinner lists for the grids of three arguments
GRID_SIZES = [0, 1, -1, 3, -3, 999_999_937, -999_999_937, BIG, -BIG, BIG + 1, -BIG - 1, I64_MAX,
              I64_MIN]
GRID_PRICES = [0, 1, 463_000, 537_000, 999_999, ONE]
BAD_PRICES = [-1, ONE + 1, I64_MIN, I64_MAX]
FACTORS = [1, 333_333, ONE]


class Vectors:
    """The cases of one function: each argument tuple once, in the order first given."""

    def __init__(self, name):
        self.name = name
        self.function, self.params = FUNCTIONS[name]
        self.cases, self.reverts, self._seen = [], [], set()

    def add(self, *args):
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {self.params}, got {args}")
        if args in self._seen:
            return
        for value in args:
            if type(value) is not int or not I64_MIN <= value <= I64_MAX:
                raise ValueError(f"{self.name}{args}: RiskMath takes int64 arguments only")
        self._seen.add(args)
        try:
            result = self.function(*args)
        except InvalidInput:
            self.reverts.append({"args": list(args), "error": "InvalidInput"})
        except OverflowError:
            self.reverts.append({"args": list(args), "error": "OverflowError"})
        else:
            expect = list(result) if isinstance(result, tuple) else [result]
            self.cases.append({"args": list(args), "expect": expect})


def _position_notionals(size):
    """Open notionals of a position of this size at entry prices 0, 1, 537_000, 1e6 - 1 and 1e6,
    plus one just outside each end (invalid)."""
    notionals = {size * e for e in (0, 1, 537_000, ONE - 1, ONE)}
    notionals |= {-1 if size >= 0 else 1, size * ONE + (1 if size >= 0 else -1)}
    return sorted(n for n in notionals if I64_MIN <= n <= I64_MAX)


def _random_position(rng):
    size = _random_size(rng)
    lo, hi = sorted((0, size * ONE))
    return size, rng.randint(max(lo, I64_MIN), min(hi, I64_MAX))


def _random_size(rng):
    bound = rng.choice((10, 1_000, 10**9, BIG, I64_MAX))
    return rng.randint(-bound, bound)


def _random_price(rng):
    near_zero, near_one = rng.randint(0, 1_000), ONE - rng.randint(0, 1_000)
    return rng.choice((rng.randint(0, ONE), near_zero, near_one, rng.choice(PRICES)))


def at_risk_notional(rng):
    v = Vectors("atRiskNotional")
    for size in SIZES:
        for price in PRICES:
            v.add(size, price)
    for price in BAD_PRICES:
        v.add(5, price)
    for _ in range(20):
        v.add(_random_size(rng), _random_price(rng))
    return v


def imf_ppm_down(rng):
    v = Vectors("imfPpmDown")
    caps = [(0, 0), (1_000, 0), (0, 1_000_000), (1_000_000, 3_000_001), (5, 5), (7, 8),
            (I64_MAX - 3, I64_MAX)]
    for base in (0, 100_000, 999_999, ONE):
        for lower, upper in caps:
            middle = (lower + upper) // 2
            for oi in (0, lower - 1, lower, lower + 1, middle, upper - 1, upper, upper + 1,
                       I64_MAX):
                if 0 <= oi <= I64_MAX:
                    v.add(base, oi, lower, upper)
    invalid = [(-1, 0, 0, 0), (ONE + 1, 0, 0, 0), (100_000, -1, 0, 10), (100_000, 5, -1, 10),
               (100_000, 5, 0, -1), (100_000, 5, 11, 10), (100_000, 5, I64_MAX, 1)]
    for args in invalid:
        v.add(*args)
    for _ in range(30):
        lower = rng.randint(0, 10**12)
        upper = lower + rng.randint(1, 10**12)
        v.add(rng.randint(0, ONE), rng.randint(0, upper + 10**6), lower, upper)
    return v


def requirement(name, rng):
    v = Vectors(name)
    for size in GRID_SIZES:
        for price in GRID_PRICES:
            for factor in FACTORS:
                v.add(size, price, factor)
    for size, price in [(7, 537_000), (-7, 463_000), (I64_MAX, ONE)]:
        v.add(size, price, 0)
    # at-risk notional beyond int64, requirement within it; and the exact top of int64
    v.add(10**13, ONE, 100_000)
    v.add(-(10**13), 0, 100_000)
    v.add(I64_MAX, ONE, 1)
    v.add(I64_MAX, 1, ONE)
    for args in [(5, -1, 100), (5, ONE + 1, 100), (5, 500_000, -1), (5, 500_000, ONE + 1)]:
        v.add(*args)
    for _ in range(30):
        factor = rng.choice((rng.randint(0, ONE), rng.choice(FACTORS)))
        v.add(_random_size(rng), _random_price(rng), factor)
    return v


def fee_up(rng):
    v = Vectors("feeUp")
    for notional in (0, 1, 999_999, ONE, ONE + 1, 123_456_789, I64_MAX):
        for fee in (-ONE, -250, -1, 0, 1, 250, 500, ONE):
            v.add(notional, fee)
    for notional, fee in [(-1, 100), (I64_MIN, 100), (10, -ONE - 1), (10, ONE + 1)]:
        v.add(notional, fee)
    for _ in range(30):
        v.add(rng.randint(0, rng.choice((10**6, 10**12, I64_MAX))), rng.randint(-ONE, ONE))
    return v


def unrealized_pnl(rng):
    v = Vectors("unrealizedPnl")
    for size in GRID_SIZES:
        for notional in _position_notionals(size):
            for price in (0, 537_000, ONE):
                v.add(size, notional, price)
    # int64's bottom and top exactly, then past them
    for args in [(I64_MIN, 0, 1), (I64_MIN, 0, 2), (I64_MAX, 0, 1), (I64_MAX, 0, 2)]:
        v.add(*args)
    for price in BAD_PRICES:
        v.add(3, 1_500_000, price)
    for _ in range(30):
        v.add(*_random_position(rng), _random_price(rng))
    return v


def apply_fill(rng):
    v = Vectors("applyFill")
    for price in (0, 1, 537_000, ONE):
        v.add(0, 0, 5, price)  # open long
        v.add(0, 0, -5, price)  # open short
        v.add(3, 1_611_000, 2, price)  # increase long
        v.add(-3, -1_389_000, -2, price)  # increase short
        v.add(3, 10, -1, price)  # reduce long, inexact share: ceil(10 / 3)
        v.add(3, 10, -2, price)  # ceil(20 / 3)
        v.add(-3, -10, 1, price)  # reduce short, inexact share: ceil(-10 / 3) = -3
        v.add(-3, -10, 2, price)  # ceil(-20 / 3) = -6
        v.add(3, 1_611_000, -3, price)  # close long
        v.add(-3, -1_389_000, 3, price)  # close short
        v.add(3, 1_611_000, -7, price)  # flip long to short
        v.add(-3, -1_389_000, 7, price)  # flip short to long
        v.add(7, 3_759_001, -3, price)  # reduce with an entry price between ticks
        v.add(-7, -3_759_001, 3, price)
    # YES/NO: a long YES at p mirrors a short YES at 1e6 - p
    v.add(4, 2_148_000, -1, 600_000)
    v.add(-4, -1_852_000, 1, 400_000)
    # int64 edges: results at the limit, then one past it
    v.add(BIG, BIG * ONE, -BIG, ONE)
    v.add(I64_MAX, 0, I64_MIN, 0)  # flip to -1 at price 0
    v.add(-1, 0, I64_MIN + 1, 0)  # new size exactly int64's bottom
    v.add(I64_MAX, 0, 1, 0)  # size overflows
    v.add(I64_MIN, 0, -1, ONE)  # size overflows downward
    v.add(BIG, 0, BIG, ONE)  # open notional overflows
    v.add(I64_MAX, I64_MAX, I64_MIN, ONE)  # flip: realized overflows
    v.add(-BIG - 1, 0, 2 * BIG + 2, ONE)  # flip: new open notional overflows
    invalid = [(0, 0, 0, 500_000), (3, 10, 0, 1), (3, -1, 1, 1), (3, 3 * ONE + 1, 1, 1),
               (-3, 1, 1, 1), (-3, -3 * ONE - 1, 1, 1), (3, 10, 1, -1), (3, 10, 1, ONE + 1)]
    for args in invalid:
        v.add(*args)
    for _ in range(120):
        size, notional = _random_position(rng)
        fill = 0
        while fill == 0:  # any size, a close, a flip to the mirror, or about the position's size
            near = rng.randint(-abs(size) - 1, abs(size) + 1)
            fill = rng.choice((_random_size(rng), -size, -2 * size, near))
        fill = max(I64_MIN, min(I64_MAX, fill))
        v.add(size, notional, fill, _random_price(rng))
    return v


def funding_payment_up(rng):
    v = Vectors("fundingPaymentUp")
    for size in FUNDING_SIZES:
        for delta in FUNDING_DELTAS:
            v.add(size, delta)
    for _ in range(60):
        v.add(_random_size(rng), rng.choice((rng.randint(-10**7, 10**7), _random_size(rng))))
    return v


def settle_funding(rng):
    v = Vectors("settleFunding")
    for size in FUNDING_SIZES:
        for delta in FUNDING_DELTAS:
            for dust in (0, 1, ONE - 1):
                v.add(size, delta, dust)
    for _ in range(60):
        v.add(_random_size(rng), rng.choice((rng.randint(-10**7, 10**7), _random_size(rng))),
              rng.randint(0, ONE - 1))
    return v


# a payer and a receiver of every sign, exact and inexact divisions, payments near int64's ends
FUNDING_SIZES = [0, 1, -1, 3, -3, 7, -7, 1_000, -1_000, 999_999_937, -999_999_937, BIG, -BIG,
                 I64_MAX, I64_MIN]
FUNDING_DELTAS = [0, 1, -1, 999_999, -999_999, ONE, -ONE, ONE + 1, -ONE - 1, 123_456_789,
                  -123_456_789, 10**12, -(10**12), I64_MAX, I64_MIN]


def _document(about, groups, with_reverts=True):
    functions = {}
    for g in groups:
        entry = {"python": PYTHON_NAMES.get(g.name, f"perpcore.reference.margin.{g.function.__name__}"),
                 "params": list(g.params), "cases": g.cases}
        if with_reverts:
            entry["reverts"] = g.reverts
        functions[g.name] = entry
    return {"about": about + "; generated by tests/vectors/generate.py, do not edit",
            "functions": functions}


def build_risk_math():
    """risk_math.json, as a dict."""
    rng = random.Random(SEED)
    groups = [at_risk_notional(rng), imf_ppm_down(rng), requirement("initialRequirementUp", rng),
              requirement("maintenanceRequirementUp", rng), fee_up(rng), unrealized_pnl(rng),
              apply_fill(rng)]
    return _document("RiskMath.sol test vectors from perpcore.reference.margin", groups)


def build_funding():
    """funding.json, as a dict: results only (see the module's docstring)."""
    rng = random.Random(SEED + 1)
    groups = [funding_payment_up(rng), settle_funding(rng)]
    return _document("PositionMath.sol funding settlement vectors from perpcore.reference.funding",
                     groups, with_reverts=False)


DOCUMENTS = {"risk_math.json": build_risk_math, "funding.json": build_funding}


def _line(value):
    return json.dumps(value, separators=(", ", ": "))


def render(document):
    """A document's text: one vector per line, so that a drift shows as a readable diff."""
    out = ["{", f'  "about": {_line(document["about"])},', '  "functions": {']
    names = list(document["functions"])
    for i, name in enumerate(names):
        group = document["functions"][name]
        out += [f'    "{name}": {{', f'      "python": {_line(group["python"])},',
                f'      "params": {_line(group["params"])},']
        keys = [k for k in ("cases", "reverts") if k in group]
        for k, key in enumerate(keys):
            items = group[key]
            out.append(f'      "{key}": [')
            out += [f"        {_line(item)}{',' if j < len(items) - 1 else ''}"
                    for j, item in enumerate(items)]
            out.append(f"      ]{',' if k < len(keys) - 1 else ''}")
        out.append("    }" + ("," if i < len(names) - 1 else ""))
    out += ["  }", "}"]
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a file differs from a fresh build")
    args = parser.parse_args(argv)
    stale = 0
    for name, build in DOCUMENTS.items():
        out, text = HERE / name, render(build())
        if args.check:
            if not out.exists() or out.read_text() != text:
                print(f"{out} is out of date: run {pathlib.Path(__file__).name} to regenerate it",
                      file=sys.stderr)
                stale += 1
            continue
        out.write_text(text)
        counts = {fn: (len(g["cases"]), len(g.get("reverts", ())))
                  for fn, g in json.loads(text)["functions"].items()}
        total = sum(c + r for c, r in counts.values())
        print(f"wrote {name}: {total} vectors (results+reverts) "
              + ", ".join(f"{n} {c}+{r}" for n, (c, r) in counts.items()))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
