// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ICollateralVault} from "../src/interfaces/ICollateralVault.sol";
import {IPositionManager} from "../src/interfaces/IPositionManager.sol";
import {IMarketRiskRegistry} from "../src/interfaces/IMarketRiskRegistry.sol";
import {Roles} from "../src/libraries/Roles.sol";
import {PositionManager} from "../src/PositionManager.sol";
import {SystemFixture} from "./utils/SystemFixture.sol";

/// @notice executeTrade: signatures, sequence, fees, PnL, open interest, margin; applyFundingIndex and funding on
/// touch; the margin oracle; pausing.
contract PositionManagerTest is SystemFixture {
    function setUp() public override {
        super.setUp();
        _fund(alice, CASH);
        _fund(bob, CASH);
        _fund(carol, CASH);
    }

    // ------------------------------------------------------------------------------------------------ constructor

    function test_constructor_setsEverything() public view {
        assertEq(address(pm.vault()), address(vault));
        assertEq(address(pm.marketRegistry()), address(markets));
        assertEq(address(pm.riskRegistry()), address(risk));
        assertEq(address(pm.oracleRegistry()), address(oracles));
        assertEq(address(pm.insuranceFund()), address(insurance));
        assertEq(pm.feeRecipient(), feeRecipient);
        assertEq(pm.inactivityPeriod(), INACTIVITY);
        assertEq(pm.maxFundingDeltaPerSecond(), MAX_FUNDING_PER_SECOND);
        assertEq(pm.lastBatchAt(), block.timestamp);
        assertEq(pm.lastSeq(), 0);
        assertTrue(pm.hasRole(pm.DEFAULT_ADMIN_ROLE(), admin));
    }

    function test_RevertWhen_constructorGetsAZeroAddressOrParameter() public {
        vm.expectRevert(IPositionManager.ZeroAddress.selector);
        new PositionManager(address(0), vault, markets, risk, oracles, insurance, feeRecipient, INACTIVITY, 1);
        vm.expectRevert(IPositionManager.ZeroAddress.selector);
        new PositionManager(admin, vault, markets, risk, oracles, insurance, address(0), INACTIVITY, 1);
        vm.expectRevert(IPositionManager.ZeroParameter.selector);
        new PositionManager(admin, vault, markets, risk, oracles, insurance, feeRecipient, 0, 1);
        vm.expectRevert(IPositionManager.ZeroParameter.selector);
        new PositionManager(admin, vault, markets, risk, oracles, insurance, feeRecipient, INACTIVITY, 0);
    }

    // ------------------------------------------------------------------------------------------------ a trade

    function test_executeTrade_opensBothPositionsChargesFeesAndKeepsOpenInterest() public {
        // alice (taker) buys 100 from bob (maker) at 0.5: notional 50e6
        vm.expectEmit(address(pm));
        emit IPositionManager.Filled(
            M1,
            bob,
            alice,
            IPositionManager.FillRecord(
                IPositionManager.FillKind.Normal, 100, MID, 25_000, -5_000, 100, 50e6, 0, -100, -50e6, 0
            )
        );
        _trade(M1, bob, alice, 100, MID);
        assertEq(_size(M1, alice), 100);
        assertEq(_size(M1, bob), -100);
        assertEq(pm.positionOf(M1, alice).openNotionalQq, 50e6);
        assertEq(pm.marketStateOf(M1).openInterest, 100);
        assertEq(vault.availableOf(alice), CASH - 25_000); // taker 0.05 %
        assertEq(vault.availableOf(bob), CASH + 5_000); // maker rebate 0.01 %
        assertEq(insurance.balanceOf(M1), 4_000); // 20 % of the 20_000 collected
        assertEq(vault.availableOf(feeRecipient), 16_000);
        assertEq(pm.marketsOf(alice).length, 1);
        assertEq(pm.lastSeq(), 1);
    }

    function test_executeTrade_realisesPnlToCashAndClosesTheMarket() public {
        _trade(M1, bob, alice, 100, MID);
        _mark(M1, 540_000);
        _trade(M1, carol, alice, -100, 540_000); // alice sells to carol at 0.54: +4e6
        assertEq(_size(M1, alice), 0);
        assertEq(pm.marketsOf(alice).length, 0);
        uint256 fees = 25_000 + 27_000; // 0.05 % of 50e6 and of 54e6
        assertEq(vault.availableOf(alice), CASH + 4e6 - fees);
        assertEq(pm.marketStateOf(M1).openInterest, 100); // carol is long now
        assertEq(pm.marketStateOf(M1).clearingPoolQq, -4e6);
    }

    function test_executeTrade_chainsTheBatchHash() public {
        IPositionManager.Fill[] memory fills = _one(_fill(M1, bob, alice, 10, MID));
        _execute(fills);
        bytes32 expected = keccak256(abi.encode(bytes32(0), uint64(1), keccak256(abi.encode(fills))));
        assertEq(pm.lastBatchHash(), expected);
        _execute(fills);
        assertEq(pm.lastBatchHash(), keccak256(abi.encode(expected, uint64(2), keccak256(abi.encode(fills)))));
    }

    function test_RevertWhen_theSenderIsNotASubmitter() public {
        IPositionManager.Fill[] memory fills = _one(_fill(M1, bob, alice, 10, MID));
        bytes memory sig = _sign(ENGINE_KEY, 1, 0, fills);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, Roles.SUBMITTER)
        );
        vm.prank(alice);
        pm.executeTrade(1, fills, sig);
    }

    function test_RevertWhen_theSignerIsNotTheEngine() public {
        IPositionManager.Fill[] memory fills = _one(_fill(M1, bob, alice, 10, MID));
        bytes memory sig = _sign(0xBAD, 1, 0, fills);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.BadSignature.selector, vm.addr(0xBAD)));
        vm.prank(submitter);
        pm.executeTrade(1, fills, sig);
    }

    function test_RevertWhen_theFillsDifferFromWhatWasSigned() public {
        IPositionManager.Fill[] memory fills = _one(_fill(M1, bob, alice, 10, MID));
        bytes memory sig = _sign(ENGINE_KEY, 1, 0, fills);
        fills[0].size = 11;
        vm.prank(submitter);
        vm.expectRevert(); // recovers some other address
        pm.executeTrade(1, fills, sig);
    }

    function test_RevertWhen_aBatchIsReplayedOrSkipsASequenceNumber() public {
        IPositionManager.Fill[] memory fills = _one(_fill(M1, bob, alice, 10, MID));
        bytes memory sig = _sign(ENGINE_KEY, 1, 0, fills);
        vm.prank(submitter);
        pm.executeTrade(1, fills, sig);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.BadSequence.selector, 2, 1));
        vm.prank(submitter);
        pm.executeTrade(1, fills, sig);
        bytes memory sig3 = _sign(ENGINE_KEY, 3, pm.lastBatchHash(), fills);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.BadSequence.selector, 2, 3));
        vm.prank(submitter);
        pm.executeTrade(3, fills, sig3);
    }

    function test_RevertWhen_theSignatureChainsToAnotherPreviousHash() public {
        _trade(M1, bob, alice, 10, MID);
        IPositionManager.Fill[] memory fills = _one(_fill(M1, bob, alice, 10, MID));
        bytes memory sig = _sign(ENGINE_KEY, 2, bytes32(uint256(1)), fills);
        vm.prank(submitter);
        vm.expectRevert();
        pm.executeTrade(2, fills, sig);
    }

    function test_RevertWhen_theBatchIsEmpty() public {
        IPositionManager.Fill[] memory fills = new IPositionManager.Fill[](0);
        bytes memory sig = _sign(ENGINE_KEY, 1, 0, fills);
        vm.expectRevert(IPositionManager.EmptyBatch.selector);
        vm.prank(submitter);
        pm.executeTrade(1, fills, sig);
    }

    function test_RevertWhen_aFillIsMalformed() public {
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.InvalidFill.selector, 0));
        this.execute(_one(_fill(M1, bob, alice, 0, MID)));
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.InvalidFill.selector, 0));
        this.execute(_one(_fill(M1, alice, alice, 1, MID)));
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.InvalidFill.selector, 0));
        this.execute(_one(_fill(M1, address(0), alice, 1, MID)));
    }

    function test_RevertWhen_aFillIsInTheMarketIdTheMarketListCannotEncode() public {
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.InvalidFill.selector, 0));
        this.execute(_one(_fill(type(uint32).max, bob, alice, 1, MID)));
    }

    function test_marketsOf_keepsMarketZeroAndMovesTheLastMarketIntoAClosedOnesPlace() public {
        _listMarket(0);
        _listMarket(3);
        _trade(M1, bob, alice, 1, MID);
        _trade(0, bob, alice, 1, MID);
        _trade(3, bob, alice, 1, MID);
        _trade(M1, bob, alice, -1, MID);
        uint32[] memory list = pm.marketsOf(alice);
        assertEq(list.length, 2);
        assertEq(list[0], 3);
        assertEq(list[1], 0);
        _trade(0, bob, alice, -1, MID);
        list = pm.marketsOf(alice);
        assertEq(list.length, 1);
        assertEq(list[0], 3);
    }

    function test_twoBatchesInOneTransactionEachSeeTheirAccountsAfresh() public {
        _trade(M1, bob, alice, 100, MID);
        uint256 aliceBefore = vault.availableOf(alice);
        _trade(M1, bob, alice, 100, MID); // same transaction: the first batch's account index must be gone
        assertEq(vault.availableOf(alice), aliceBefore - 25_000);
        assertEq(_size(M1, alice), 200);
    }

    function test_RevertWhen_theMarketIsNotActive() public {
        markets.createMarket(3, 0);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.MarketNotTradable.selector, 3));
        this.execute(_one(_fill(3, bob, alice, 1, MID)));
    }

    function test_RevertWhen_thePriceLeavesTheBand() public {
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.PriceOutsideBand.selector, 0, 550_001, MID, 50_000));
        this.execute(_one(_fill(M1, bob, alice, 1, 550_001)));
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.PriceOutsideBand.selector, 0, 449_999, MID, 50_000));
        this.execute(_one(_fill(M1, bob, alice, 1, 449_999)));
        this.execute(_one(_fill(M1, bob, alice, 1, 550_000))); // the band's edge is in
    }

    function test_RevertWhen_theMarkIsStale() public {
        vm.warp(block.timestamp + MAX_SNAPSHOT_AGE + 1);
        vm.expectRevert();
        this.execute(_one(_fill(M1, bob, alice, 1, MID)));
    }

    function test_RevertWhen_anAccountEndsBelowInitialMarginHavingGrownItsRisk() public {
        // 10 % of at-risk notional: 20_000 contracts at 0.5 need 1_000e6 for the long, more than its cash after fees
        vm.expectRevert();
        this.execute(_one(_fill(M1, bob, alice, 20_000, MID)));
        this.execute(_one(_fill(M1, bob, alice, 19_000, MID))); // 950e6 needed, 990.5e6 equity
    }

    function test_executeTrade_letsAnAccountBelowInitialMarginReduceItsRisk() public {
        this.execute(_one(_fill(M1, bob, alice, 19_000, MID)));
        _mark(M1, 480_000); // alice loses 380e6: equity ~610e6, initial 912e6: below initial, above maintenance
        (int256 equity, int256 initial,) = pm.marginOf(alice);
        assertLt(equity, initial);
        vm.expectRevert(); // growing is refused
        this.execute(_one(_fill(M1, carol, alice, 100, 480_000)));
        this.execute(_one(_fill(M1, carol, alice, -1_000, 480_000))); // reducing is fine
        assertEq(_size(M1, alice), 18_000);
    }

    function test_RevertWhen_aDebitExceedsTheCash() public {
        address poor = makeAddr("poor");
        _fund(poor, 10); // cannot pay a 0.05 % taker fee of 25_000
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.InsufficientCash.selector, poor, int256(-24_990)));
        this.execute(_one(_fill(M1, bob, poor, 100, MID)));
    }

    function test_RevertWhen_anAccountWouldHoldTooManyMarkets() public {
        for (uint32 m = 3; m <= 9; ++m) {
            _listMarket(m);
            _trade(m, bob, alice, 1, MID);
        }
        _trade(M1, bob, alice, 1, MID);
        _listMarket(10);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.TooManyMarkets.selector, alice));
        this.execute(_one(_fill(10, bob, alice, 1, MID)));
    }

    function test_executeTrade_isAtomic() public {
        IPositionManager.Fill[] memory fills = new IPositionManager.Fill[](2);
        fills[0] = _fill(M1, bob, alice, 10, MID);
        fills[1] = _fill(M1, bob, alice, 10, 900_000); // outside the band
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.PriceOutsideBand.selector, 1, 900_000, MID, 50_000));
        this.execute(fills);
        assertEq(_size(M1, alice), 0);
        assertEq(pm.lastSeq(), 0);
        assertEq(vault.availableOf(alice), CASH);
    }

    function test_executeTrade_inResolvingOnlyReducesBothPositions() public {
        _trade(M1, bob, alice, 100, MID);
        markets.startResolving(M1);
        _mark(M1, MID);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.NotReduceOnly.selector, 0));
        this.execute(_one(_fill(M1, carol, alice, -10, MID))); // carol would open
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.NotReduceOnly.selector, 0));
        this.execute(_one(_fill(M1, bob, alice, 10, MID))); // both grow
        this.execute(_one(_fill(M1, bob, alice, -10, MID)));
        assertEq(_size(M1, alice), 90);
    }

    function test_RevertWhen_pausedButUnpausingResumes() public {
        vm.prank(pauser);
        pm.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        this.execute(_one(_fill(M1, bob, alice, 1, MID)));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, 1);
        vm.expectRevert();
        vm.prank(pauser);
        pm.unpause();
        vm.prank(admin);
        pm.unpause();
        this.execute(_one(_fill(M1, bob, alice, 1, MID)));
    }

    function test_executeTrade_crossMarginCountsEveryMarket() public {
        _trade(M1, bob, alice, 100, MID);
        _trade(M2, bob, alice, -100, MID);
        (int256 equity, int256 initial, int256 maintenance) = pm.marginOf(alice);
        assertEq(initial, 5e6 + 5e6); // 10 % of 50e6 each
        assertEq(maintenance, 2.5e6 + 2.5e6);
        assertEq(equity, SafeCast.toInt256(CASH) - 50_000);
        _mark(M1, 510_000);
        (equity,,) = pm.marginOf(alice);
        assertEq(equity, SafeCast.toInt256(CASH) - 50_000 + 1e6);
    }

    // ------------------------------------------------------------------------------------------------ funding

    function test_applyFundingIndex_movesTheIndexWithinTheBound() public {
        vm.warp(block.timestamp + 100);
        vm.expectEmit(address(pm));
        emit IPositionManager.FundingIndexApplied(M1, 1000, 1000);
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, 1000); // 10 idx/s * 100 s
        assertEq(pm.marketStateOf(M1).fundingIndex, 1000);
        assertEq(pm.marketStateOf(M1).lastFundingAt, block.timestamp);
        vm.warp(block.timestamp + 10);
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, -100);
        assertEq(pm.marketStateOf(M1).fundingIndex, 900);
    }

    function test_RevertWhen_theFundingDeltaExceedsTheBound() public {
        vm.warp(block.timestamp + 100);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.FundingDeltaTooLarge.selector, int128(1001), 1000));
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, 1001);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.FundingDeltaTooLarge.selector, int128(-1001), 1000));
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, -1001);
    }

    function test_RevertWhen_fundingIsAppliedByAnotherAccountOrOutsideActive() public {
        vm.warp(block.timestamp + 100);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, Roles.FUNDING_PUSHER)
        );
        vm.prank(alice);
        pm.applyFundingIndex(M1, 1);
        markets.startResolving(M1);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.MarketNotTradable.selector, M1));
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, 1);
    }

    function test_funding_settlesOnTouchPayerUpReceiverDownDustToInsurance() public {
        _trade(M1, bob, alice, 3, MID); // alice +3, bob -3
        vm.warp(block.timestamp + 40_000);
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, 333_333); // longs pay 3 * 0.333333 = 0.999999 qq
        _mark(M1, MID);
        assertEq(pm.unsettledFundingOf(M1, alice), 1); // rounded up
        assertEq(pm.unsettledFundingOf(M1, bob), 0); // -0.999999 rounded up: receives 0
        uint256 aliceBefore = vault.availableOf(alice);
        uint256 bobBefore = vault.availableOf(bob);
        uint256 insuranceBefore = insurance.balanceOf(M1);
        vm.expectEmit(address(pm));
        emit IPositionManager.FundingSettled(M1, alice, 1, 333_333);
        _trade(M1, bob, alice, -3, MID);
        // both settle: alice pays 1, bob receives 0; dust 1 + 999_999 idx = one quantum, swept to insurance
        assertEq(vault.availableOf(alice), aliceBefore - 1 - 750);
        assertEq(vault.availableOf(bob), bobBefore + 150);
        assertEq(insurance.balanceOf(M1) - insuranceBefore, 1 + 120); // the dust + 20 % of 600 fees
        assertEq(pm.marketStateOf(M1).fundingPoolQq, 0);
        assertEq(pm.marketStateOf(M1).fundingDustIdx, 0);
    }

    // ------------------------------------------------------------------------------------------------ margin oracle

    function test_isBelowInitialAfter_letsTheGuardRejectAnUnsafeWithdrawalOnly() public {
        this.execute(_one(_fill(M1, bob, alice, 19_000, MID))); // needs 950e6, holds ~990e6
        vm.prank(alice);
        uint256 unsafeId = vault.requestWithdrawal(100e6);
        assertTrue(pm.isBelowInitialAfter(alice, 100e6));
        vm.prank(guard);
        vault.rejectWithdrawal(unsafeId);
        assertEq(uint8(vault.withdrawal(unsafeId).status), uint8(ICollateralVault.WithdrawalStatus.Rejected));
        vm.prank(alice);
        uint256 safeId = vault.requestWithdrawal(30e6);
        assertFalse(pm.isBelowInitialAfter(alice, 30e6));
        vm.prank(guard);
        vm.expectRevert(abi.encodeWithSelector(ICollateralVault.RejectionNotJustified.selector, safeId));
        vault.rejectWithdrawal(safeId);
    }

    function test_RevertWhen_liquidationFeeIsOutOfRangeOrNotByTheAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.LiquidationFeeOutOfRange.selector, int64(50_001)));
        vm.prank(admin);
        pm.setLiquidationFeePpm(50_001);
        vm.expectRevert();
        vm.prank(alice);
        pm.setLiquidationFeePpm(1);
        vm.prank(admin);
        pm.setLiquidationFeePpm(10_000);
        assertEq(pm.liquidationFeePpm(), 10_000);
    }

    /// @dev External so that expectRevert can catch a batch's revert.
    function execute(IPositionManager.Fill[] memory fills) external {
        _execute(fills);
    }
}
