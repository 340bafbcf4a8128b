// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IOracleAdapter, IOracleRegistry} from "../src/interfaces/IOracleRegistry.sol";
import {IPushedOracleAdapter} from "../src/interfaces/IPushedOracleAdapter.sol";
import {Roles} from "../src/libraries/Roles.sol";
import {OracleRegistry} from "../src/OracleRegistry.sol";
import {PushedOracleAdapter} from "../src/PushedOracleAdapter.sol";
import {RegistriesFixture} from "./utils/RegistriesFixture.sol";

contract OracleRegistryTest is RegistriesFixture {
    // ------------------------------------------------------------------------------------------------
    // construction

    function test_constructor_grantsTheAdminOnly() public view {
        assertTrue(oracles.hasRole(oracles.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(oracles.hasRole(oracles.DEFAULT_ADMIN_ROLE(), address(this)));
        assertFalse(oracles.hasRole(Roles.RESOLVER, admin));
    }

    function test_RevertWhen_constructedWithAZeroAdmin() public {
        vm.expectRevert(IOracleRegistry.ZeroAddress.selector);
        new OracleRegistry(address(0));
    }

    // ------------------------------------------------------------------------------------------------
    // adapters

    function test_setAdapter_setsAndEmitsThePreviousAndTheNewAdapter() public {
        vm.expectEmit(address(oracles));
        emit IOracleRegistry.AdapterSet(MARKET, IOracleAdapter(address(0)), adapter);
        vm.prank(admin);
        oracles.setAdapter(MARKET, adapter);
        assertEq(address(oracles.adapterOf(MARKET)), address(adapter));

        PushedOracleAdapter next = new PushedOracleAdapter(admin);
        vm.expectEmit(address(oracles));
        emit IOracleRegistry.AdapterSet(MARKET, adapter, next);
        vm.prank(admin);
        oracles.setAdapter(MARKET, next);
        assertEq(address(oracles.adapterOf(MARKET)), address(next));
        assertEq(address(oracles.adapterOf(MARKET + 1)), address(0));
    }

    function test_RevertWhen_setAdapter_adapterIsZero() public {
        vm.expectRevert(IOracleRegistry.ZeroAdapter.selector);
        vm.prank(admin);
        oracles.setAdapter(MARKET, IOracleAdapter(address(0)));
    }

    function test_RevertWhen_setAdapter_callerIsNotTheAdmin() public {
        _expectUnauthorized(resolver, oracles.DEFAULT_ADMIN_ROLE());
        vm.prank(resolver);
        oracles.setAdapter(MARKET, adapter);
    }

    function test_latestOf_readsTheMarketsAdapter() public {
        vm.prank(admin);
        oracles.setAdapter(MARKET, adapter);
        (int64 value, uint64 timestamp) = oracles.latestOf(MARKET);
        assertEq(value, 0);
        assertEq(timestamp, 0);
        vm.prank(pusher);
        adapter.push(537_000, START - 5);
        (value, timestamp) = oracles.latestOf(MARKET);
        assertEq(value, 537_000);
        assertEq(timestamp, START - 5);
    }

    function test_RevertWhen_latestOf_marketHasNoAdapter() public {
        vm.expectRevert(abi.encodeWithSelector(IOracleRegistry.NoAdapter.selector, MARKET));
        oracles.latestOf(MARKET);
    }

    // ------------------------------------------------------------------------------------------------
    // resolution

    function test_resolutionOf_isUnresolvedAndZeroBeforeAnyRecord() public view {
        (bool resolved, int64 value) = oracles.resolutionOf(MARKET);
        assertFalse(resolved);
        assertEq(value, 0);
    }

    function test_recordResolution_recordsAndEmitsEveryValueOfTheRange() public {
        int64[3] memory values = [int64(0), 537_000, ONE];
        for (uint32 i; i < values.length; ++i) {
            vm.expectEmit(address(oracles));
            emit IOracleRegistry.ResolutionRecorded(MARKET + i, values[i]);
            vm.prank(resolver);
            oracles.recordResolution(MARKET + i, values[i]);
            (bool resolved, int64 value) = oracles.resolutionOf(MARKET + i);
            assertTrue(resolved);
            assertEq(value, values[i]);
        }
    }

    function test_RevertWhen_recordResolution_valueIsOutsideTheRange() public {
        int64[4] memory values = [int64(-1), ONE + 1, type(int64).min, type(int64).max];
        for (uint256 i; i < values.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IOracleRegistry.ValueOutOfRange.selector, values[i]));
            vm.prank(resolver);
            oracles.recordResolution(MARKET, values[i]);
        }
        (bool resolved,) = oracles.resolutionOf(MARKET);
        assertFalse(resolved);
    }

    function test_RevertWhen_recordResolution_isAskedASecondTimeEvenWithTheSameValue() public {
        vm.prank(resolver);
        oracles.recordResolution(MARKET, ONE);
        int64[2] memory values = [int64(0), ONE];
        for (uint256 i; i < values.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IOracleRegistry.AlreadyResolved.selector, MARKET));
            vm.prank(resolver);
            oracles.recordResolution(MARKET, values[i]);
        }
        (bool resolved, int64 value) = oracles.resolutionOf(MARKET);
        assertTrue(resolved);
        assertEq(value, ONE);
    }

    function test_RevertWhen_recordResolution_callerIsTheAdmin() public {
        _expectUnauthorized(admin, Roles.RESOLVER);
        vm.prank(admin);
        oracles.recordResolution(MARKET, ONE);
    }

    function testFuzz_recordResolution_acceptsExactlyTheRangeOnce(int64 valuePpm) public {
        bool inRange = valuePpm >= 0 && valuePpm <= ONE;
        if (!inRange) vm.expectRevert(abi.encodeWithSelector(IOracleRegistry.ValueOutOfRange.selector, valuePpm));
        vm.prank(resolver);
        oracles.recordResolution(MARKET, valuePpm);
        (bool resolved, int64 value) = oracles.resolutionOf(MARKET);
        assertEq(resolved, inRange);
        assertEq(value, inRange ? valuePpm : int64(0));
    }

    // ------------------------------------------------------------------------------------------------
    // PushedOracleAdapter

    function test_adapter_constructorGrantsTheAdminOnly() public view {
        assertTrue(adapter.hasRole(adapter.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(adapter.hasRole(Roles.PRICE_PUSHER, admin));
        (int64 value, uint64 timestamp) = adapter.latest();
        assertEq(value, 0);
        assertEq(timestamp, 0);
    }

    function test_RevertWhen_adapterConstructedWithAZeroAdmin() public {
        vm.expectRevert(IPushedOracleAdapter.ZeroAddress.selector);
        new PushedOracleAdapter(address(0));
    }

    function test_adapterPush_storesAndEmitsUpToTheCurrentBlockTime() public {
        _pushValue(0, START - 10);
        vm.expectEmit(address(adapter));
        emit IPushedOracleAdapter.ValuePushed(ONE, START);
        _pushValue(ONE, START);
        (int64 value, uint64 timestamp) = adapter.latest();
        assertEq(value, ONE);
        assertEq(timestamp, START);
    }

    function test_RevertWhen_adapterPush_valueIsOutsideTheRange() public {
        vm.expectRevert(abi.encodeWithSelector(IPushedOracleAdapter.ValueOutOfRange.selector, int64(-1)));
        _pushValue(-1, START);
        vm.expectRevert(abi.encodeWithSelector(IPushedOracleAdapter.ValueOutOfRange.selector, ONE + 1));
        _pushValue(ONE + 1, START);
    }

    function test_RevertWhen_adapterPush_timestampIsNotAfterThePreviousOrInTheFuture() public {
        vm.expectRevert(abi.encodeWithSelector(IPushedOracleAdapter.NonMonotonicTimestamp.selector, 0, 0));
        _pushValue(500_000, 0); // the first push too needs a time
        _pushValue(500_000, START - 10);
        uint64[3] memory bad = [START - 10, START - 11, START + 1];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IPushedOracleAdapter.NonMonotonicTimestamp.selector, START - 10, bad[i])
            );
            _pushValue(600_000, bad[i]);
        }
        (int64 value, uint64 timestamp) = adapter.latest();
        assertEq(value, 500_000);
        assertEq(timestamp, START - 10);
    }

    function test_RevertWhen_adapterPush_callerIsNotThePricePusher() public {
        _expectUnauthorized(admin, Roles.PRICE_PUSHER);
        vm.prank(admin);
        adapter.push(500_000, START);
    }

    function testFuzz_adapterPush_acceptedExactlyWhenInRangeAndForwardInTime(int64 valuePpm, uint64 timestamp) public {
        _pushValue(500_000, START - 100);
        bool accepted = valuePpm >= 0 && valuePpm <= ONE && timestamp > START - 100 && timestamp <= START;
        if (!accepted) vm.expectRevert();
        _pushValue(valuePpm, timestamp);
        (int64 value, uint64 stored) = adapter.latest();
        assertEq(value, accepted ? valuePpm : int64(500_000));
        assertEq(stored, accepted ? timestamp : START - 100);
    }

    // ------------------------------------------------------------------------------------------------

    function _pushValue(int64 valuePpm, uint64 timestamp) internal {
        vm.prank(pusher);
        adapter.push(valuePpm, timestamp);
    }
}
