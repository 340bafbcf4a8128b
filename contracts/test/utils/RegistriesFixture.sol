// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {InsuranceFund} from "../../src/InsuranceFund.sol";
import {InsuranceReasons} from "../../src/interfaces/IInsuranceFund.sol";
import {IMarketRegistry} from "../../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../../src/interfaces/IMarketRiskRegistry.sol";
import {Roles} from "../../src/libraries/Roles.sol";
import {MarketRegistry} from "../../src/MarketRegistry.sol";
import {MarketRiskRegistry} from "../../src/MarketRiskRegistry.sol";
import {OracleRegistry} from "../../src/OracleRegistry.sol";
import {PushedOracleAdapter} from "../../src/PushedOracleAdapter.sol";
import {Test} from "./Test.sol";

/// @notice The four registries wired together, each role granted to a named account, and helpers that walk a
/// market along its lifecycle, build a valid risk tier and push snapshots.
abstract contract RegistriesFixture is Test {
    int64 internal constant ONE = 1_000_000;
    uint64 internal constant MAX_AGE = 60; // seconds
    int64 internal constant MAX_MOVE = 1_000; // ppm per second
    uint256 internal constant CAP = 1_000e6; // a thousand USDC per window
    uint64 internal constant WINDOW = 1 hours;
    uint32 internal constant MARKET = 7;
    uint64 internal constant START = 1_700_000_000;

    address internal admin = makeAddr("admin");
    address internal resolver = makeAddr("resolver");
    address internal pusher = makeAddr("pusher");
    address internal positionManager = makeAddr("positionManager");
    address internal stranger = makeAddr("stranger");

    OracleRegistry internal oracles;
    MarketRegistry internal markets;
    MarketRiskRegistry internal risk;
    InsuranceFund internal fund;
    PushedOracleAdapter internal adapter;

    function setUp() public virtual {
        vm.warp(START);
        oracles = new OracleRegistry(admin);
        markets = new MarketRegistry(admin, oracles);
        risk = new MarketRiskRegistry(admin, markets, MAX_AGE, MAX_MOVE);
        fund = new InsuranceFund(admin, CAP, WINDOW);
        adapter = new PushedOracleAdapter(admin);
        vm.startPrank(admin);
        oracles.grantRole(Roles.RESOLVER, resolver);
        markets.grantRole(Roles.RESOLVER, resolver);
        risk.grantRole(Roles.PRICE_PUSHER, pusher);
        adapter.grantRole(Roles.PRICE_PUSHER, pusher);
        fund.grantRole(Roles.POSITION_MANAGER, positionManager);
        vm.stopPrank();
    }

    /// @dev Creates `marketId` and walks it forward until it reaches `phase` (recording a resolution of 1e6 on
    /// the way to Resolved).
    function _marketIn(uint32 marketId, IMarketRegistry.Phase phase) internal {
        vm.prank(admin);
        markets.createMarket(marketId, keccak256(abi.encode(marketId)));
        if (phase >= IMarketRegistry.Phase.Active) {
            vm.prank(admin);
            markets.activate(marketId);
        }
        if (phase >= IMarketRegistry.Phase.Resolving) {
            vm.prank(resolver);
            markets.startResolving(marketId);
        }
        if (phase >= IMarketRegistry.Phase.Resolved) {
            vm.prank(resolver);
            oracles.recordResolution(marketId, ONE);
            vm.prank(resolver);
            markets.markResolved(marketId);
        }
        if (phase >= IMarketRegistry.Phase.Settled) {
            vm.prank(resolver);
            markets.markSettled(marketId);
        }
    }

    /// @dev perpcore's default tier: 10 % IMF, 5 % MMF, scaling from 1M to 5M USDC of OI, taker 5 bp, maker 1 bp,
    /// 20 % of fees to insurance, a 10 % price band.
    function _tier() internal pure returns (IMarketRiskRegistry.RiskTier memory) {
        return IMarketRiskRegistry.RiskTier({
            baseImfPpm: 100_000,
            mmfPpm: 50_000,
            oiLowerCapQq: 1_000_000e6,
            oiUpperCapQq: 5_000_000e6,
            makerFeePpm: 100,
            takerFeePpm: 500,
            insuranceSharePpm: 200_000,
            priceBandPpm: 100_000
        });
    }

    function _push(uint32 marketId, int64 indexPpm, int64 markPpm, uint64 timestamp, IMarketRegistry.Phase phase)
        internal
    {
        vm.prank(pusher);
        risk.pushSnapshot(marketId, indexPpm, markPpm, timestamp, phase);
    }

    function _credit(uint32 marketId, uint256 amount) internal {
        vm.prank(positionManager);
        fund.credit(marketId, amount, InsuranceReasons.FEE_SHARE);
    }

    function _draw(uint32 marketId, uint256 amount) internal {
        vm.prank(positionManager);
        fund.draw(marketId, amount);
    }

    function _expectUnauthorized(address account, bytes32 role) internal {
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role));
    }
}
