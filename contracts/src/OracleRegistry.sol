// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IOracleAdapter, IOracleRegistry} from "./interfaces/IOracleRegistry.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title OracleRegistry
/// @notice Owns which adapter serves each market's probability and each market's resolution value. The admin
/// points a market at an adapter (and may repoint it); the resolver records the resolution value once, after
/// which it never changes. It reads adapters but never trusts them for resolution. See IOracleRegistry.
contract OracleRegistry is IOracleRegistry, AccessControl {
    int64 internal constant ONE_PPM = 1_000_000;

    /// @dev One slot per market: whether it resolved and to what.
    struct Resolution {
        bool resolved;
        int64 valuePpm;
    }

    /// @inheritdoc IOracleRegistry
    mapping(uint32 marketId => IOracleAdapter) public adapterOf;

    mapping(uint32 marketId => Resolution) internal _resolutions;

    /// @param admin Receives the default admin role, which sets adapters and grants every role.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IOracleRegistry
    function setAdapter(uint32 marketId, IOracleAdapter adapter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(adapter) == address(0)) revert ZeroAdapter();
        emit AdapterSet(marketId, adapterOf[marketId], adapter);
        adapterOf[marketId] = adapter;
    }

    /// @inheritdoc IOracleRegistry
    function recordResolution(uint32 marketId, int64 valuePpm) external onlyRole(Roles.RESOLVER) {
        if (valuePpm < 0 || valuePpm > ONE_PPM) revert ValueOutOfRange(valuePpm);
        Resolution storage resolution = _resolutions[marketId];
        if (resolution.resolved) revert AlreadyResolved(marketId);
        resolution.resolved = true;
        resolution.valuePpm = valuePpm;
        emit ResolutionRecorded(marketId, valuePpm);
    }

    /// @inheritdoc IOracleRegistry
    function latestOf(uint32 marketId) external view returns (int64 valuePpm, uint64 timestamp) {
        IOracleAdapter adapter = adapterOf[marketId];
        if (address(adapter) == address(0)) revert NoAdapter(marketId);
        return adapter.latest();
    }

    /// @inheritdoc IOracleRegistry
    function resolutionOf(uint32 marketId) external view returns (bool resolved, int64 valuePpm) {
        Resolution memory resolution = _resolutions[marketId];
        return (resolution.resolved, resolution.valuePpm);
    }
}
