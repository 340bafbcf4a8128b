// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IPositionManager} from "../src/interfaces/IPositionManager.sol";
import {SystemFixture} from "./utils/SystemFixture.sol";

/// @notice How many fills one batch carries within a HyperEVM small block (2,000,000 gas), measured as a real
/// transaction would pay: 21,000 intrinsic gas, Cancun calldata (16 gas per non-zero byte, 4 per zero byte) and the
/// call's execution with every contract's storage cold (vm.cool), in a live exchange (the market already has open
/// interest, the fee recipient a balance, the insurance fund a share). Each fill is between its own maker and taker,
/// the costliest shape: every fill touches two accounts the batch has not seen yet.
contract PositionManagerGasTest is SystemFixture {
    uint256 internal constant BLOCK_GAS = 2_000_000;
    uint256 internal constant TX_GAS = 21_000;

    /// @dev Fills between accounts new to the market (each fill opens both positions: two fresh position slots
    /// and two fresh market lists), the first fills of new accounts. Measured with _fits (and the same batch with
    /// ample gas for the total): 10 fills take 1,839,581 gas, 11 need ~2.01M (~174k per fill).
    uint256 internal constant MAX_FRESH_FILLS_IN_2M = 10;
    /// @dev Fills between accounts that already hold the position and owe or are owed funding since (funding
    /// settled for both, both positions grow so both pass the margin check): the steady state. Measured likewise:
    /// 18 fills take 1,965,092 gas, 19 need ~2.07M (~103k per fill).
    uint256 internal constant MAX_STEADY_FILLS_IN_2M = 18;

    uint256 internal constant ACCOUNTS = 2 * (MAX_STEADY_FILLS_IN_2M + 1);

    address[] internal accounts;

    function setUp() public override {
        super.setUp();
        // a live exchange: open interest, fees and an insurance share already booked
        _fund(alice, 1_000e6);
        _fund(bob, 1_000e6);
        _trade(M1, bob, alice, 1_000, MID);
        for (uint256 i; i < ACCOUNTS; ++i) {
            address account = vm.addr(0x1000 + i);
            accounts.push(account);
            _fund(account, 100e6);
        }
    }

    function test_gas_maxFreshFillsFitTwoMillionGas() public {
        assertTrue(_fits(_fills(MAX_FRESH_FILLS_IN_2M)));
        assertEq(pm.lastSeq(), 2);
    }

    function test_gas_oneFreshFillMoreDoesNotFitTwoMillionGas() public {
        IPositionManager.Fill[] memory fills = _fills(MAX_FRESH_FILLS_IN_2M + 1);
        assertFalse(_fits(fills));
        _execute(fills); // it is only the gas
    }

    function test_gas_maxSteadyStateFillsFitTwoMillionGas() public {
        _holdPositions(MAX_STEADY_FILLS_IN_2M);
        assertTrue(_fits(_fills(MAX_STEADY_FILLS_IN_2M)));
        assertEq(_size(M1, accounts[1]), 200);
    }

    function test_gas_oneSteadyStateFillMoreDoesNotFitTwoMillionGas() public {
        _holdPositions(MAX_STEADY_FILLS_IN_2M + 1);
        IPositionManager.Fill[] memory fills = _fills(MAX_STEADY_FILLS_IN_2M + 1);
        assertFalse(_fits(fills));
        _execute(fills);
    }

    /// @dev `n` fills, the i-th between accounts 2i (maker) and 2i + 1 (taker), 100 contracts at the mark.
    function _fills(uint256 n) internal view returns (IPositionManager.Fill[] memory fills) {
        fills = new IPositionManager.Fill[](n);
        for (uint256 i; i < n; ++i) {
            fills[i] = _fill(M1, accounts[2 * i], accounts[2 * i + 1], 100, MID);
        }
    }

    /// @dev The first 2n accounts open positions, then funding moves (everyone has some to settle) and an hour
    /// later a fresh mark arrives.
    function _holdPositions(uint256 n) internal {
        _execute(_fills(n));
        vm.warp(block.timestamp + 1 hours);
        vm.prank(fundingPusher);
        pm.applyFundingIndex(M1, 1_234);
        _mark(M1, MID);
    }

    /// @dev Whether the next batch of `fills` executes as a transaction with a 2,000,000 gas limit: the call gets
    /// what is left after the intrinsic and calldata gas, with every contract's storage cold.
    function _fits(IPositionManager.Fill[] memory fills) internal returns (bool ok) {
        uint64 seq = pm.lastSeq() + 1;
        bytes memory data =
            abi.encodeCall(pm.executeTrade, (seq, fills, _sign(ENGINE_KEY, seq, pm.lastBatchHash(), fills)));
        uint256 calldataGas;
        for (uint256 i; i < data.length; ++i) {
            calldataGas += data[i] == 0 ? 4 : 16;
        }
        vm.cool(address(pm));
        vm.cool(address(vault));
        vm.cool(address(markets));
        vm.cool(address(risk));
        vm.cool(address(oracles));
        vm.cool(address(insurance));
        vm.prank(submitter);
        (ok,) = address(pm).call{gas: BLOCK_GAS - TX_GAS - calldataGas}(data);
    }
}
