// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IPositionManager} from "../src/interfaces/IPositionManager.sol";
import {SystemFixture} from "./utils/SystemFixture.sol";

/// @notice Settlement at the resolution value, exit mode, liquidation and deleverage fills (a batch's gas: the gas test).
contract PositionManagerLifecycleTest is SystemFixture {
    function setUp() public override {
        super.setUp();
        _fund(alice, CASH);
        _fund(bob, CASH);
        _fund(carol, CASH);
    }

    // ------------------------------------------------------------------------------------------------ settlement

    function _resolve(uint32 marketId, int64 valuePpm) internal {
        markets.startResolving(marketId);
        oracles.recordResolution(marketId, valuePpm);
        markets.markResolved(marketId);
    }

    function test_settlePosition_closesAtTheResolutionValueEvenWhilePaused() public {
        _trade(M1, bob, alice, 100, MID);
        _resolve(M1, 1_000_000);
        vm.prank(pauser);
        pm.pause();
        uint256 aliceBefore = vault.availableOf(alice);
        uint256 bobBefore = vault.availableOf(bob);
        vm.expectEmit(address(pm));
        emit IPositionManager.PositionClosed(M1, alice, 100, 1_000_000, 50e6, false);
        pm.settlePosition(M1, alice);
        pm.settlePosition(M1, bob);
        assertEq(vault.availableOf(alice), aliceBefore + 50e6);
        assertEq(vault.availableOf(bob), bobBefore - 50e6);
        assertEq(pm.marketStateOf(M1).openInterest, 0);
        assertEq(pm.marketStateOf(M1).clearingPoolQq, 0);
        assertEq(pm.marketsOf(alice).length, 0);
    }

    function test_RevertWhen_settlingBeforeResolutionOrWithoutAPosition() public {
        _trade(M1, bob, alice, 100, MID);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.NotResolved.selector, M1));
        pm.settlePosition(M1, alice);
        _resolve(M1, 0);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.NoPosition.selector, M1, carol));
        pm.settlePosition(M1, carol);
    }

    function test_settlePosition_turnsWhatALoserCannotPayIntoBadDebt() public {
        address poor = makeAddr("poor");
        _fund(poor, 6e6);
        _trade(M1, poor, alice, 100, MID); // poor short 100 at 0.5 with 6e6: the long wins 50e6
        _resolve(M1, 1_000_000);
        uint256 cash = vault.availableOf(poor);
        vm.expectEmit(address(pm));
        emit IPositionManager.BadDebt(M1, poor, 50e6 - cash);
        pm.settlePosition(M1, poor);
        assertEq(vault.availableOf(poor), 0);
    }

    // ------------------------------------------------------------------------------------------------ exit mode

    function test_RevertWhen_exitModeIsEnteredBeforeTheInactivityPeriod() public {
        _trade(M1, bob, alice, 100, MID);
        vm.warp(block.timestamp + INACTIVITY - 1);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.StillActive.selector, pm.lastBatchAt() + INACTIVITY));
        pm.enterExitMode();
        vm.expectRevert(IPositionManager.ExitModeOff.selector);
        pm.exitClose(M1, alice);
        vm.expectRevert(IPositionManager.ExitModeOff.selector);
        pm.exitWithdraw();
    }

    function test_exitMode_everyAccountClosesAtTheLatestMarkAndLeavesWithItsCash() public {
        _trade(M1, bob, alice, 100, MID);
        _mark(M1, 600_000);
        vm.warp(block.timestamp + INACTIVITY);
        vm.prank(pauser);
        pm.pause(); // pausing never blocks exits
        pm.enterExitMode();
        assertTrue(pm.exitMode());
        vm.expectRevert(IPositionManager.ExitModeOn.selector);
        pm.enterExitMode();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.OpenPositions.selector, alice));
        pm.exitWithdraw();
        pm.exitClose(M1, alice); // the stale mark of 0.6 is used
        pm.exitClose(M1, bob);
        uint256 aliceDue = CASH - 25_000 + 10e6;
        assertEq(vault.availableOf(alice), aliceDue);
        vm.prank(alice);
        assertEq(pm.exitWithdraw(), aliceDue);
        assertEq(usdc.balanceOf(alice), aliceDue);
        vm.prank(bob);
        assertEq(pm.exitWithdraw(), CASH + 5_000 - 10e6);
        vm.prank(carol);
        assertEq(pm.exitWithdraw(), CASH);
        vm.prank(alice);
        vm.expectRevert(IPositionManager.NothingToWithdraw.selector);
        pm.exitWithdraw();
        vm.prank(admin);
        pm.unpause();
        vm.expectRevert(IPositionManager.ExitModeOn.selector);
        this.execute(_one(_fill(M1, bob, alice, 1, MID)));
    }

    function test_exitWithdraw_paysProRataWhenTheVaultIsShort() public {
        address poor = makeAddr("poor");
        _fund(poor, 6e6);
        _trade(M1, poor, alice, 100, MID);
        _mark(M1, 1_000_000);
        vm.warp(block.timestamp + INACTIVITY);
        pm.enterExitMode();
        pm.exitClose(M1, alice); // paid 50e6 from the clearing pool
        pm.exitClose(M1, poor); // could pay only its cash: bad debt
        uint256 held = usdc.balanceOf(address(vault));
        uint256 owed = vault.totalOwed();
        assertLt(held, owed);
        uint256 due = vault.availableOf(alice);
        vm.prank(alice);
        uint256 paid = pm.exitWithdraw();
        assertEq(paid, due * held / owed);
        vm.prank(bob);
        assertEq(pm.exitWithdraw(), CASH * (held - paid) / (owed - due));
    }

    // ------------------------------------------------------------------------------------------------ liquidation

    function test_liquidationFill_closesALiquidatableAccountAndPaysTheFeeToInsurance() public {
        vm.prank(admin);
        pm.setLiquidationFeePpm(10_000);
        this.execute(_one(_fill(M1, bob, alice, 19_000, MID)));
        _mark(M1, 452_000); // alice loses 912e6 of ~990e6: equity ~78e6 <= maintenance ~85.9e6
        IPositionManager.Fill memory f = _fill(M1, carol, alice, -19_000, 452_000);
        f.kind = IPositionManager.FillKind.Liquidation;
        uint256 before = insurance.balanceOf(M1);
        this.execute(_one(f));
        assertEq(_size(M1, alice), 0);
        // the fee, 1 % of 19_000 * 0.452 = 85.88e6, exceeds alice's cash after the fill (1_000e6 - 4.75e6 taker fee
        // - 912e6 loss = 83.25e6): it takes it all
        assertEq(insurance.balanceOf(M1) - before, 83_250_000);
        assertEq(vault.availableOf(alice), 0);
    }

    function test_liquidationFill_drawsTheDeficitFromInsurance() public {
        _seedInsurance(M1, 600e6);
        this.execute(_one(_fill(M1, bob, alice, 19_000, MID)));
        _mark(M1, 449_000);
        _mark(M1, 420_000); // loss 1_520e6 > cash
        IPositionManager.Fill memory f = _fill(M1, carol, alice, -19_000, 420_000);
        f.kind = IPositionManager.FillKind.Liquidation;
        uint256 before = insurance.balanceOf(M1);
        this.execute(_one(f));
        assertEq(vault.availableOf(alice), 0);
        // the loss of 19_000 * 0.08 = 1_520e6 beyond the cash left after the 4.75e6 taker fee; no fees in the fill
        assertEq(before - insurance.balanceOf(M1), 1_520e6 + 4_750_000 - CASH);
    }

    function test_RevertWhen_aLiquidationFillTargetsAHealthyAccountOrGrowsIt() public {
        _trade(M1, bob, alice, 100, MID);
        IPositionManager.Fill memory f = _fill(M1, carol, alice, -100, MID);
        f.kind = IPositionManager.FillKind.Liquidation;
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.NotLiquidatable.selector, 0, alice));
        this.execute(_one(f));
    }

    function test_deleverageFill_closesABankruptAccountAgainstItsCounterpartyAtTheBankruptcyPrice() public {
        this.execute(_one(_fill(M1, bob, alice, 19_000, MID)));
        _mark(M1, 449_000);
        _mark(M1, 420_000);
        (int256 equity,,) = pm.marginOf(alice);
        assertLt(equity, 0);
        // long: mark + ceil(-equity / 19_000)
        int256 price = 420_000 + (-equity + 18_999) / 19_000;
        IPositionManager.Fill memory f = _fill(M1, bob, alice, -19_000, SafeCast.toInt64(price - 1));
        f.kind = IPositionManager.FillKind.Deleverage;
        vm.expectRevert(
            abi.encodeWithSelector(IPositionManager.NotBankruptcyPrice.selector, 0, SafeCast.toInt64(price), SafeCast.toInt64(price - 1))
        );
        this.execute(_one(f));
        f.pricePpm = SafeCast.toInt64(price);
        this.execute(_one(f));
        assertEq(_size(M1, alice), 0);
        assertEq(_size(M1, bob), 0);
        (equity,,) = pm.marginOf(alice);
        assertGe(equity, 0);
        assertLt(equity, 19_000);
    }

    function test_RevertWhen_aDeleverageFillTargetsAnAccountTheFundCanCover() public {
        _seedInsurance(M1, 2_000e6);
        this.execute(_one(_fill(M1, bob, alice, 19_000, MID)));
        _mark(M1, 449_000);
        _mark(M1, 420_000);
        IPositionManager.Fill memory f = _fill(M1, bob, alice, -19_000, 420_000);
        f.kind = IPositionManager.FillKind.Deleverage;
        vm.expectRevert(abi.encodeWithSelector(IPositionManager.NotDeleveragable.selector, 0, alice));
        this.execute(_one(f));
    }

    /// @dev External so that expectRevert can catch a batch's revert.
    function execute(IPositionManager.Fill[] memory fills) external {
        _execute(fills);
    }
}
