// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IMarketRegistry} from "../src/interfaces/IMarketRegistry.sol";
import {IOracleRegistry} from "../src/interfaces/IOracleRegistry.sol";
import {Roles} from "../src/libraries/Roles.sol";
import {MarketRegistry} from "../src/MarketRegistry.sol";
import {RegistriesFixture} from "./utils/RegistriesFixture.sol";

contract MarketRegistryTest is RegistriesFixture {
    // ------------------------------------------------------------------------------------------------
    // construction

    function test_constructor_setsTheOracleRegistryAndTheAdminOnly() public view {
        assertEq(address(markets.oracleRegistry()), address(oracles));
        assertTrue(markets.hasRole(markets.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(markets.hasRole(markets.DEFAULT_ADMIN_ROLE(), address(this)));
        assertFalse(markets.hasRole(Roles.RESOLVER, admin));
    }

    function test_RevertWhen_constructedWithAZeroAdminOrOracleRegistry() public {
        vm.expectRevert(IMarketRegistry.ZeroAddress.selector);
        new MarketRegistry(address(0), oracles);
        vm.expectRevert(IMarketRegistry.ZeroAddress.selector);
        new MarketRegistry(admin, IOracleRegistry(address(0)));
    }

    // ------------------------------------------------------------------------------------------------
    // createMarket

    function test_phaseOf_isNoneForAMarketNeverCreated() public view {
        assertEq(uint8(markets.phaseOf(MARKET)), uint8(IMarketRegistry.Phase.None));
    }

    function test_createMarket_putsTheMarketInDraftAndEmitsBothEvents() public {
        vm.expectEmit(address(markets));
        emit IMarketRegistry.MarketCreated(MARKET, "question");
        vm.expectEmit(address(markets));
        emit IMarketRegistry.PhaseChanged(MARKET, IMarketRegistry.Phase.None, IMarketRegistry.Phase.Draft);
        vm.prank(admin);
        markets.createMarket(MARKET, "question");
        assertEq(uint8(markets.phaseOf(MARKET)), uint8(IMarketRegistry.Phase.Draft));
        assertEq(uint8(markets.phaseOf(MARKET + 1)), uint8(IMarketRegistry.Phase.None));
    }

    function test_RevertWhen_createMarket_idAlreadyExistsInAnyPhase() public {
        for (uint8 p = uint8(IMarketRegistry.Phase.Draft); p <= uint8(IMarketRegistry.Phase.Settled); ++p) {
            uint32 marketId = 100 + p;
            _marketIn(marketId, IMarketRegistry.Phase(p));
            vm.expectRevert(abi.encodeWithSelector(IMarketRegistry.MarketExists.selector, marketId));
            vm.prank(admin);
            markets.createMarket(marketId, "again");
            assertEq(uint8(markets.phaseOf(marketId)), p);
        }
    }

    function test_RevertWhen_createMarket_callerIsNotTheAdmin() public {
        _expectUnauthorized(resolver, markets.DEFAULT_ADMIN_ROLE());
        vm.prank(resolver);
        markets.createMarket(MARKET, "question");
    }

    // ------------------------------------------------------------------------------------------------
    // the transitions, one by one

    function test_activate_movesDraftToActive() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Draft);
        _expectPhaseChanged(IMarketRegistry.Phase.Draft, IMarketRegistry.Phase.Active);
        vm.prank(admin);
        markets.activate(MARKET);
        assertEq(uint8(markets.phaseOf(MARKET)), uint8(IMarketRegistry.Phase.Active));
    }

    function test_RevertWhen_activate_callerIsTheResolver() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Draft);
        _expectUnauthorized(resolver, markets.DEFAULT_ADMIN_ROLE());
        vm.prank(resolver);
        markets.activate(MARKET);
    }

    function test_startResolving_movesActiveToResolving() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Active);
        _expectPhaseChanged(IMarketRegistry.Phase.Active, IMarketRegistry.Phase.Resolving);
        vm.prank(resolver);
        markets.startResolving(MARKET);
        assertEq(uint8(markets.phaseOf(MARKET)), uint8(IMarketRegistry.Phase.Resolving));
    }

    function test_RevertWhen_startResolving_callerIsTheAdmin() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Active);
        _expectUnauthorized(admin, Roles.RESOLVER);
        vm.prank(admin);
        markets.startResolving(MARKET);
    }

    function test_markResolved_movesResolvingToResolvedOnceTheValueIsRecorded() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Resolving);
        vm.prank(resolver);
        oracles.recordResolution(MARKET, 0);
        _expectPhaseChanged(IMarketRegistry.Phase.Resolving, IMarketRegistry.Phase.Resolved);
        vm.prank(resolver);
        markets.markResolved(MARKET);
        assertEq(uint8(markets.phaseOf(MARKET)), uint8(IMarketRegistry.Phase.Resolved));
    }

    function test_RevertWhen_markResolved_theResolutionValueIsMissing() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Resolving);
        vm.prank(resolver);
        oracles.recordResolution(MARKET + 1, ONE); // another market's value does not count
        vm.expectRevert(abi.encodeWithSelector(IMarketRegistry.ResolutionValueMissing.selector, MARKET));
        vm.prank(resolver);
        markets.markResolved(MARKET);
        assertEq(uint8(markets.phaseOf(MARKET)), uint8(IMarketRegistry.Phase.Resolving));
    }

    function test_RevertWhen_markResolved_fromActiveEvenWithTheValueRecorded() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Active);
        vm.prank(resolver);
        oracles.recordResolution(MARKET, ONE);
        _expectIllegal(IMarketRegistry.Phase.Active, IMarketRegistry.Phase.Resolved);
        vm.prank(resolver);
        markets.markResolved(MARKET);
    }

    function test_RevertWhen_markResolved_callerIsTheAdmin() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Resolving);
        vm.prank(resolver);
        oracles.recordResolution(MARKET, ONE);
        _expectUnauthorized(admin, Roles.RESOLVER);
        vm.prank(admin);
        markets.markResolved(MARKET);
    }

    function test_markSettled_movesResolvedToSettled() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Resolved);
        _expectPhaseChanged(IMarketRegistry.Phase.Resolved, IMarketRegistry.Phase.Settled);
        vm.prank(resolver);
        markets.markSettled(MARKET);
        assertEq(uint8(markets.phaseOf(MARKET)), uint8(IMarketRegistry.Phase.Settled));
    }

    function test_RevertWhen_markSettled_callerIsTheAdmin() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Resolved);
        _expectUnauthorized(admin, Roles.RESOLVER);
        vm.prank(admin);
        markets.markSettled(MARKET);
    }

    function test_RevertWhen_aTransitionIsAskedOfAMarketNeverCreated() public {
        for (uint8 to = uint8(IMarketRegistry.Phase.Active); to <= uint8(IMarketRegistry.Phase.Settled); ++to) {
            vm.expectRevert(abi.encodeWithSelector(IMarketRegistry.UnknownMarket.selector, MARKET));
            _callTransition(IMarketRegistry.Phase(to));
        }
    }

    function test_roles_aRevokedResolverCanNoLongerMoveMarkets() public {
        _marketIn(MARKET, IMarketRegistry.Phase.Active);
        vm.prank(admin);
        markets.revokeRole(Roles.RESOLVER, resolver);
        _expectUnauthorized(resolver, Roles.RESOLVER);
        vm.prank(resolver);
        markets.startResolving(MARKET);
    }

    // ------------------------------------------------------------------------------------------------
    // the whole table

    /// @dev From every phase, every transition: only the one step forward succeeds, every other reverts
    /// `IllegalTransition(from, to)` and leaves the phase where it was (Settled is terminal, nothing goes back).
    function test_everyTransitionFromEveryPhase_onlyTheNextStepSucceeds() public {
        uint32 marketId = 1000;
        for (uint8 from = uint8(IMarketRegistry.Phase.Draft); from <= uint8(IMarketRegistry.Phase.Settled); ++from) {
            for (uint8 to = uint8(IMarketRegistry.Phase.Active); to <= uint8(IMarketRegistry.Phase.Settled); ++to) {
                ++marketId;
                _marketIn(marketId, IMarketRegistry.Phase(from));
                if (to == uint8(IMarketRegistry.Phase.Resolved)) {
                    (bool resolved,) = oracles.resolutionOf(marketId);
                    if (!resolved) {
                        vm.prank(resolver);
                        oracles.recordResolution(marketId, ONE);
                    }
                }
                bool legal = to == from + 1;
                if (!legal) {
                    vm.expectRevert(
                        abi.encodeWithSelector(
                            IMarketRegistry.IllegalTransition.selector,
                            marketId,
                            IMarketRegistry.Phase(from),
                            IMarketRegistry.Phase(to)
                        )
                    );
                }
                _callTransitionOf(marketId, IMarketRegistry.Phase(to));
                assertEq(uint8(markets.phaseOf(marketId)), legal ? to : from);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------

    function _callTransition(IMarketRegistry.Phase to) internal {
        _callTransitionOf(MARKET, to);
    }

    /// @dev Calls the function whose target is `to`, as the role allowed to call it.
    function _callTransitionOf(uint32 marketId, IMarketRegistry.Phase to) internal {
        if (to == IMarketRegistry.Phase.Active) {
            vm.prank(admin);
            markets.activate(marketId);
        } else if (to == IMarketRegistry.Phase.Resolving) {
            vm.prank(resolver);
            markets.startResolving(marketId);
        } else if (to == IMarketRegistry.Phase.Resolved) {
            vm.prank(resolver);
            markets.markResolved(marketId);
        } else {
            vm.prank(resolver);
            markets.markSettled(marketId);
        }
    }

    function _expectPhaseChanged(IMarketRegistry.Phase from, IMarketRegistry.Phase to) internal {
        vm.expectEmit(address(markets));
        emit IMarketRegistry.PhaseChanged(MARKET, from, to);
    }

    function _expectIllegal(IMarketRegistry.Phase from, IMarketRegistry.Phase to) internal {
        vm.expectRevert(abi.encodeWithSelector(IMarketRegistry.IllegalTransition.selector, MARKET, from, to));
    }
}
