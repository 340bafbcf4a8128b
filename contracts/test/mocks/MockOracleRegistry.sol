// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {IOracleAdapter, IOracleRegistry} from "../../src/interfaces/IOracleRegistry.sol";

/// @notice IOracleRegistry without access control, for tests: adapters by market and a resolution value recorded
/// once, in [0, 1e6] ppm.
contract MockOracleRegistry is IOracleRegistry {
    mapping(uint32 marketId => IOracleAdapter) public adapterOf;
    mapping(uint32 marketId => bool) internal _resolved;
    mapping(uint32 marketId => int64) internal _value;

    function setAdapter(uint32 marketId, IOracleAdapter adapter) external {
        if (address(adapter) == address(0)) revert ZeroAdapter();
        emit AdapterSet(marketId, adapterOf[marketId], adapter);
        adapterOf[marketId] = adapter;
    }

    function recordResolution(uint32 marketId, int64 valuePpm) external {
        if (valuePpm < 0 || valuePpm > 1_000_000) revert ValueOutOfRange(valuePpm);
        if (_resolved[marketId]) revert AlreadyResolved(marketId);
        _resolved[marketId] = true;
        _value[marketId] = valuePpm;
        emit ResolutionRecorded(marketId, valuePpm);
    }

    function latestOf(uint32 marketId) external view returns (int64 valuePpm, uint64 timestamp) {
        IOracleAdapter adapter = adapterOf[marketId];
        if (address(adapter) == address(0)) revert NoAdapter(marketId);
        return adapter.latest();
    }

    function resolutionOf(uint32 marketId) external view returns (bool resolved, int64 valuePpm) {
        return (_resolved[marketId], _value[marketId]);
    }
}
