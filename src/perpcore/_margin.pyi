"""Type stub of the native margin engine ``perpcore._margin`` (hand-written; see _margin.pyx).

tests/unit/test_stubs.py checks that the public names, member kinds and parameter names here match
the compiled module, and that every annotation resolves, so this file cannot drift silently.

Units: sizes in whole contracts (signed for positions: + long, - short), prices in ppm of
probability (0 .. 1_000_000), money in quote quantums (qq, 1e-6 USDC), ratios in ppm. A position is
``(size, open_notional_qq)``: the signed sum of size * price over its opening fills, so its entry
price lies in [0, 1_000_000]. Integer arguments accept ``int`` and numpy integer scalars; ``bool``,
``float`` and the rest raise ``perpcore.InvalidType``, out-of-range values
``perpcore.InvalidInput``, and a result outside int64 raises ``OverflowError``.
"""

from typing import Any, TypeAlias, final

import numpy as np

_Int: TypeAlias = int | np.integer[Any]
"""An integer argument: a Python int (or IntEnum member) or a numpy integer scalar."""

def at_risk_notional_qq(size: _Int, price_ppm: _Int) -> int:
    """The most the position can lose: size * p for a long, |size| * (1e6 - p) for a short."""

def imf_ppm(base_imf_ppm: _Int, oi_notional_qq: _Int, lower_cap_qq: _Int,
            upper_cap_qq: _Int) -> int:
    """OI-scaled initial margin factor: base at or below the lower cap (or with upper cap 0),
    1_000_000 at or above the upper cap, else base + floor((1e6 - base) * (oi - lower) /
    (upper - lower))."""

def initial_requirement_qq(size: _Int, price_ppm: _Int, imf_ppm: _Int) -> int:
    """ceil(at-risk notional * imf_ppm / 1e6)."""

def maintenance_requirement_qq(size: _Int, price_ppm: _Int, mmf_ppm: _Int) -> int:
    """ceil(at-risk notional * mmf_ppm / 1e6); never scaled by open interest."""

def fee_qq(notional_qq: _Int, fee_ppm: _Int) -> int:
    """ceil(notional * fee_ppm / 1e6), fee_ppm in [-1e6, 1e6]; a rebate's magnitude rounds down."""

def unrealized_pnl_qq(size: _Int, open_notional_qq: _Int, price_ppm: _Int) -> int:
    """size * price - open notional."""

def equity_qq(collateral_qq: _Int, size: _Int, open_notional_qq: _Int, mark_ppm: _Int,
              unsettled_funding_qq: _Int) -> int:
    """collateral + unrealized PnL at the mark + unsettled funding."""

def apply_fill(size: _Int, open_notional_qq: _Int, fill_size: _Int,
               price_ppm: _Int) -> tuple[int, int, int]:
    """``(new_size, new_open_notional_qq, realized_pnl_qq)`` after a fill (+ buy, - sell, != 0).

    Reducing removes ceil(ON * closed / |size|) of the open notional (toward +inf: against the
    account); a flip closes everything, then opens the rest at the fill price. Always
    new_open_notional - realized == open_notional + fill_size * price_ppm.
    """

def entry_price_ppm(size: _Int, open_notional_qq: _Int) -> int:
    """|open notional| / |size| rounded down, for display; 0 when flat."""

def bankruptcy_price_ppm(size: _Int, close_size: _Int, mark_ppm: _Int, equity_qq: _Int,
                         mmf_ppm: _Int) -> int:
    """Per-contract price at which closing close_size (0 < close_size <= |size|) contracts keeps
    equity / maintenance unchanged; on a full close, where equity reaches 0. Rounded up when
    closing a long, down when closing a short. Not clamped: may be negative for a long or above
    1_000_000 for a short."""

def liquidation_price_ppm(size: _Int, open_notional_qq: _Int, collateral_qq: _Int,
                          mmf_ppm: _Int) -> int:
    """The mark at which the position becomes liquidatable (equity <= maintenance > 0), given its
    collateral (position margin + unsettled funding): a long is liquidatable at every mark <= the
    result (0: at none inside (0, 1e6)), a short at every mark >= it (1_000_000: at none)."""
def fillable_price_ppm(size: _Int, mark_ppm: _Int, equity_qq: _Int, mmr_qq: _Int,
                       bankruptcy_adjustment_ppm: _Int, spread_to_mmr_ppm: _Int,
                       tick_ppm: _Int) -> int:
    """Liquidation price of the whole position: mark - sign(size) * ABR * SMMR/1e6 * MMR / |size|,
    ABR = clamp(BA/1e6 * (1 - equity / MMR), 0, 1); up to a tick when closing a long, down when
    closing a short, clamped to [tick, 1_000_000 - tick]. BA >= 1e6, SMMR > 0, tick divides 1e6
    and is at most 500_000."""

@final
class RiskTier:
    """A market's risk parameters, validated at construction; immutable, hashable, pickleable."""

    def __init__(self, *, base_imf_ppm: _Int = 100_000, mmf_ppm: _Int = 50_000,
                 oi_lower_cap_qq: _Int = 0, oi_upper_cap_qq: _Int = 0, taker_fee_ppm: _Int = 500,
                 maker_fee_ppm: _Int = 100, insurance_share_ppm: _Int = 200_000,
                 liquidation_fee_ppm: _Int = 5_000, bankruptcy_adjustment_ppm: _Int = 1_000_000,
                 spread_to_mmr_ppm: _Int = 100_000, liquidation_portion_ppm: _Int = 500_000,
                 liquidation_min_notional_qq: _Int = 10_000_000,
                 liquidation_max_notional_qq: _Int = 100_000_000_000_000,
                 insurance_max_draw_qq: _Int = 100_000_000_000_000) -> None: ...
    @property
    def base_imf_ppm(self) -> int:
        """Initial margin factor below the lower OI cap, 0 < x <= 1_000_000."""
    @property
    def mmf_ppm(self) -> int:
        """Maintenance factor of the at-risk notional, 0 < x <= base_imf_ppm."""
    @property
    def oi_lower_cap_qq(self) -> int:
        """OI notional at or below which the initial factor is the base, >= 0."""
    @property
    def oi_upper_cap_qq(self) -> int:
        """OI notional at or above which the initial factor is 100 %; 0 disables scaling."""
    @property
    def taker_fee_ppm(self) -> int:
        """Taker fee, 0 <= x <= 100_000."""
    @property
    def maker_fee_ppm(self) -> int:
        """Maker fee, -taker_fee_ppm <= x <= taker_fee_ppm (negative: a rebate)."""
    @property
    def insurance_share_ppm(self) -> int:
        """Share of collected fees sent to the insurance fund, 0 .. 1_000_000."""
    @property
    def liquidation_fee_ppm(self) -> int:
        """Cap of a liquidation fill's fee to the insurance fund, of its notional, 0 .. 1e6."""
    @property
    def bankruptcy_adjustment_ppm(self) -> int:
        """The fillable price's BA (dYdX), 1_000_000 .. 1_000_000_000."""
    @property
    def spread_to_mmr_ppm(self) -> int:
        """The fillable price's SMMR (dYdX): spread as a fraction of the MMR, 1 .. 1e6."""
    @property
    def liquidation_portion_ppm(self) -> int:
        """Most of a position's notional one liquidation closes, 1 .. 1e6."""
    @property
    def liquidation_min_notional_qq(self) -> int:
        """Least notional one liquidation closes (a smaller position closes whole), >= 0."""
    @property
    def liquidation_max_notional_qq(self) -> int:
        """Most notional an account's liquidations close per block across markets, >= 1."""
    @property
    def insurance_max_draw_qq(self) -> int:
        """Most the market's insurance fund pays out per block, >= 1."""
    def imf_ppm(self, oi_notional_qq: _Int) -> int:
        """The initial margin factor at this OI notional (post-trade, at the mark)."""
    def initial_requirement_qq(self, size: _Int, price_ppm: _Int, oi_notional_qq: _Int) -> int:
        """ceil(at-risk notional * imf_ppm(oi_notional_qq) / 1e6)."""
    def maintenance_requirement_qq(self, size: _Int, price_ppm: _Int) -> int:
        """ceil(at-risk notional * mmf_ppm / 1e6), whatever the open interest."""
    def taker_fee_qq(self, notional_qq: _Int) -> int:
        """ceil(notional * taker_fee_ppm / 1e6)."""
    def maker_fee_qq(self, notional_qq: _Int) -> int:
        """ceil(notional * maker_fee_ppm / 1e6); negative (a rebate) when maker_fee_ppm < 0."""
    def insurance_share_qq(self, fee_qq: _Int) -> int:
        """floor(fee * insurance_share_ppm / 1e6) for a fee > 0, else 0."""
    def as_dict(self) -> dict[str, int]:
        """The seven parameters by name, in constructor order."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[dict[str, int]]]: ...
