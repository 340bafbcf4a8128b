// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {InsuranceFund} from "../src/InsuranceFund.sol";
import {IInsuranceFund, InsuranceReasons} from "../src/interfaces/IInsuranceFund.sol";
import {Roles} from "../src/libraries/Roles.sol";
import {RegistriesFixture} from "./utils/RegistriesFixture.sol";

contract InsuranceFundTest is RegistriesFixture {
    // ------------------------------------------------------------------------------------------------
    // construction and the draw cap

    function test_constructor_setsTheCapAndTheAdminOnly() public view {
        assertEq(fund.maxDrawPerWindow(), CAP);
        assertEq(fund.drawWindow(), WINDOW);
        assertEq(fund.totalBalance(), 0);
        assertTrue(fund.hasRole(fund.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(fund.hasRole(Roles.POSITION_MANAGER, admin));
    }

    function test_constructor_emitsTheCap() public {
        vm.expectEmit();
        emit IInsuranceFund.DrawCapSet(CAP, WINDOW);
        new InsuranceFund(admin, CAP, WINDOW);
    }

    function test_RevertWhen_constructedWithAZeroAdmin() public {
        vm.expectRevert(IInsuranceFund.ZeroAddress.selector);
        new InsuranceFund(address(0), CAP, WINDOW);
    }

    function test_RevertWhen_constructedWithAZeroWindowOrACapAbove192Bits() public {
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.InvalidDrawCap.selector, CAP, 0));
        new InsuranceFund(admin, CAP, 0);
        uint256 tooBig = uint256(type(uint192).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.InvalidDrawCap.selector, tooBig, WINDOW));
        new InsuranceFund(admin, tooBig, WINDOW);
    }

    function test_setDrawCap_setsAndEmitsEveryCapFromZeroTo192Bits() public {
        uint256[2] memory caps = [uint256(0), type(uint192).max];
        for (uint256 i; i < caps.length; ++i) {
            vm.expectEmit(address(fund));
            emit IInsuranceFund.DrawCapSet(caps[i], 1);
            vm.prank(admin);
            fund.setDrawCap(caps[i], 1);
            assertEq(fund.maxDrawPerWindow(), caps[i]);
            assertEq(fund.drawWindow(), 1);
        }
    }

    function test_RevertWhen_setDrawCap_windowIsZeroOrCapAbove192Bits() public {
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.InvalidDrawCap.selector, CAP, 0));
        vm.prank(admin);
        fund.setDrawCap(CAP, 0);
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.InvalidDrawCap.selector, type(uint256).max, WINDOW));
        vm.prank(admin);
        fund.setDrawCap(type(uint256).max, WINDOW);
        assertEq(fund.maxDrawPerWindow(), CAP);
        assertEq(fund.drawWindow(), WINDOW);
    }

    function test_RevertWhen_setDrawCap_callerIsNotTheAdmin() public {
        _expectUnauthorized(positionManager, fund.DEFAULT_ADMIN_ROLE());
        vm.prank(positionManager);
        fund.setDrawCap(CAP, WINDOW);
    }

    // ------------------------------------------------------------------------------------------------
    // reasons

    function test_reasons_readAsTheirOwnNames() public pure {
        assertEq(_text(InsuranceReasons.FEE_SHARE), "FEE_SHARE");
        assertEq(_text(InsuranceReasons.LIQUIDATION_FEE), "LIQUIDATION_FEE");
        assertEq(_text(InsuranceReasons.FUNDING_DUST), "FUNDING_DUST");
        assertEq(_text(InsuranceReasons.DEPOSIT), "DEPOSIT");
    }

    // ------------------------------------------------------------------------------------------------
    // credit

    function test_credit_addsToTheMarketAndTheTotalAndEmitsTheReason() public {
        bytes32[4] memory reasons = [
            InsuranceReasons.FEE_SHARE,
            InsuranceReasons.LIQUIDATION_FEE,
            InsuranceReasons.FUNDING_DUST,
            InsuranceReasons.DEPOSIT
        ];
        for (uint256 i; i < reasons.length; ++i) {
            vm.expectEmit(address(fund));
            emit IInsuranceFund.Credited(MARKET, 10 + i, reasons[i]);
            vm.prank(positionManager);
            fund.credit(MARKET, 10 + i, reasons[i]);
        }
        _credit(MARKET + 1, 1e6);
        assertEq(fund.balanceOf(MARKET), 46);
        assertEq(fund.balanceOf(MARKET + 1), 1e6);
        assertEq(fund.balanceOf(MARKET + 2), 0);
        assertEq(fund.totalBalance(), 1e6 + 46);
    }

    function test_RevertWhen_credit_amountIsZero() public {
        vm.expectRevert(IInsuranceFund.ZeroAmount.selector);
        _credit(MARKET, 0);
    }

    function test_RevertWhen_credit_callerIsNotThePositionManager() public {
        _expectUnauthorized(admin, Roles.POSITION_MANAGER);
        vm.prank(admin);
        fund.credit(MARKET, 1, InsuranceReasons.DEPOSIT);
    }

    // ------------------------------------------------------------------------------------------------
    // draw

    function test_draw_subtractsOpensAWindowAndEmits() public {
        _credit(MARKET, 5 * CAP);
        vm.expectEmit(address(fund));
        emit IInsuranceFund.Drawn(MARKET, 100e6);
        _draw(MARKET, 100e6);
        assertEq(fund.balanceOf(MARKET), 5 * CAP - 100e6);
        assertEq(fund.totalBalance(), 5 * CAP - 100e6);
        _assertWindow(MARKET, START, 100e6);
        assertEq(fund.drawableOf(MARKET), CAP - 100e6);
    }

    function test_draw_upToTheCapWithinOneWindowThenRevertsDrawCapExceeded() public {
        _credit(MARKET, 5 * CAP);
        _draw(MARKET, 400e6);
        vm.warp(START + WINDOW - 1);
        _draw(MARKET, CAP - 400e6); // the window's first draw set its start: still open, exactly at the cap
        _assertWindow(MARKET, START, CAP);
        assertEq(fund.drawableOf(MARKET), 0);
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.DrawCapExceeded.selector, MARKET, 0, 1));
        _draw(MARKET, 1);
    }

    function test_draw_aNewWindowOpensAtTheFirstDrawAfterTheLastOneEnded() public {
        _credit(MARKET, 5 * CAP);
        _draw(MARKET, CAP);
        vm.warp(START + WINDOW); // the window ended exactly now
        _assertWindow(MARKET, 0, 0);
        assertEq(fund.drawableOf(MARKET), CAP);
        vm.warp(START + 3 * WINDOW + 17); // no window until the next draw, which opens one at its own time
        _draw(MARKET, 1);
        _assertWindow(MARKET, START + 3 * WINDOW + 17, 1);
        vm.warp(START + 4 * WINDOW + 16);
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.DrawCapExceeded.selector, MARKET, CAP - 1, CAP));
        _draw(MARKET, CAP);
    }

    function test_draw_eachMarketHasItsOwnWindow() public {
        _credit(MARKET, CAP);
        _credit(MARKET + 1, CAP);
        _draw(MARKET, CAP);
        vm.warp(START + 10);
        _draw(MARKET + 1, CAP / 2);
        _assertWindow(MARKET, START, CAP);
        _assertWindow(MARKET + 1, START + 10, CAP / 2);
        assertEq(fund.drawableOf(MARKET + 1), CAP / 2);
    }

    function test_RevertWhen_draw_amountIsAboveTheBalance() public {
        _credit(MARKET, 10e6);
        _credit(MARKET + 1, 100e6); // another market's balance does not count
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.InsufficientFund.selector, MARKET, 10e6, 10e6 + 1));
        _draw(MARKET, 10e6 + 1);
        assertEq(fund.balanceOf(MARKET), 10e6);
        _assertWindow(MARKET, 0, 0);
    }

    function test_RevertWhen_draw_amountIsAboveTheCapOfAFreshWindow() public {
        _credit(MARKET, 5 * CAP);
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.DrawCapExceeded.selector, MARKET, CAP, CAP + 1));
        _draw(MARKET, CAP + 1);
        assertEq(fund.balanceOf(MARKET), 5 * CAP);
    }

    function test_RevertWhen_draw_amountIsZero() public {
        _credit(MARKET, CAP);
        vm.expectRevert(IInsuranceFund.ZeroAmount.selector);
        _draw(MARKET, 0);
    }

    function test_RevertWhen_draw_callerIsNotThePositionManager() public {
        _credit(MARKET, CAP);
        _expectUnauthorized(admin, Roles.POSITION_MANAGER);
        vm.prank(admin);
        fund.draw(MARKET, 1);
    }

    function test_roles_aRevokedPositionManagerCanNoLongerDraw() public {
        _credit(MARKET, CAP);
        vm.prank(admin);
        fund.revokeRole(Roles.POSITION_MANAGER, positionManager);
        _expectUnauthorized(positionManager, Roles.POSITION_MANAGER);
        _draw(MARKET, 1);
    }

    // ------------------------------------------------------------------------------------------------
    // drawable and cap changes inside a window

    function test_drawableOf_isTheBalanceWhenBelowWhatTheWindowAllows() public {
        assertEq(fund.drawableOf(MARKET), 0);
        _credit(MARKET, 300e6);
        assertEq(fund.drawableOf(MARKET), 300e6);
        _draw(MARKET, 200e6);
        assertEq(fund.drawableOf(MARKET), 100e6); // balance 100, window allows 800
        _credit(MARKET, 5 * CAP);
        assertEq(fund.drawableOf(MARKET), CAP - 200e6);
    }

    function test_setDrawCap_loweredBelowWhatTheWindowDrewLeavesNothingToDraw() public {
        _credit(MARKET, 5 * CAP);
        _draw(MARKET, 600e6);
        vm.prank(admin);
        fund.setDrawCap(500e6, WINDOW);
        assertEq(fund.drawableOf(MARKET), 0);
        vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.DrawCapExceeded.selector, MARKET, 0, 1));
        _draw(MARKET, 1);
        vm.warp(START + WINDOW);
        assertEq(fund.drawableOf(MARKET), 500e6);
    }

    function test_setDrawCap_raisedOrWindowShortenedAppliesToTheOpenWindow() public {
        _credit(MARKET, 5 * CAP);
        _draw(MARKET, CAP);
        vm.prank(admin);
        fund.setDrawCap(2 * CAP, WINDOW);
        _draw(MARKET, CAP);
        _assertWindow(MARKET, START, 2 * CAP);
        vm.prank(admin);
        fund.setDrawCap(2 * CAP, 10);
        vm.warp(START + 10);
        _assertWindow(MARKET, 0, 0);
        assertEq(fund.drawableOf(MARKET), 2 * CAP);
    }

    // ------------------------------------------------------------------------------------------------
    // fuzz

    function testFuzz_draw_succeedsExactlyWithinTheBalanceAndTheWindowsRemainder(
        uint256 credited,
        uint256 first,
        uint256 second,
        uint256 elapsed
    ) public {
        credited = bound(credited, 1, 3 * CAP);
        first = bound(first, 1, credited < CAP ? credited : CAP);
        second = bound(second, 1, 2 * CAP);
        elapsed = bound(elapsed, 0, 2 * WINDOW);
        _credit(MARKET, credited);
        _draw(MARKET, first);
        vm.warp(START + elapsed);
        uint256 balance = credited - first;
        uint256 remaining = elapsed >= WINDOW ? CAP : CAP - first;
        assertEq(fund.drawableOf(MARKET), balance < remaining ? balance : remaining);
        if (second > balance) {
            vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.InsufficientFund.selector, MARKET, balance, second));
        } else if (second > remaining) {
            vm.expectRevert(abi.encodeWithSelector(IInsuranceFund.DrawCapExceeded.selector, MARKET, remaining, second));
        }
        _draw(MARKET, second);
        bool drew = second <= balance && second <= remaining;
        assertEq(fund.balanceOf(MARKET), drew ? balance - second : balance);
        assertEq(fund.totalBalance(), fund.balanceOf(MARKET));
        (, uint256 drawn) = fund.drawWindowOf(MARKET);
        if (elapsed >= WINDOW) assertEq(drawn, drew ? second : 0);
        else assertEq(drawn, drew ? first + second : first);
    }

    // ------------------------------------------------------------------------------------------------

    function _assertWindow(uint32 marketId, uint64 openedAt, uint256 drawn) internal view {
        (uint64 actualOpenedAt, uint256 actualDrawn) = fund.drawWindowOf(marketId);
        assertEq(actualOpenedAt, openedAt, "window opened at");
        assertEq(actualDrawn, drawn, "drawn in window");
    }

    /// @dev A tag as text: its bytes up to the first zero.
    function _text(bytes32 tag) internal pure returns (string memory) {
        uint256 length;
        while (length < 32 && tag[length] != 0) ++length;
        bytes memory text = new bytes(length);
        for (uint256 i; i < length; ++i) {
            text[i] = tag[i];
        }
        return string(text);
    }
}
