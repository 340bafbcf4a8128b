// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {CollateralVault} from "../../src/CollateralVault.sol";
import {IMarketRegistry} from "../../src/interfaces/IMarketRegistry.sol";
import {IMarketRiskRegistry} from "../../src/interfaces/IMarketRiskRegistry.sol";
import {InsuranceFund} from "../../src/InsuranceFund.sol";
import {InsuranceReasons} from "../../src/interfaces/IInsuranceFund.sol";
import {IPositionManager} from "../../src/interfaces/IPositionManager.sol";
import {Roles} from "../../src/libraries/Roles.sol";
import {MarketRegistry} from "../../src/MarketRegistry.sol";
import {MarketRiskRegistry} from "../../src/MarketRiskRegistry.sol";
import {OracleRegistry} from "../../src/OracleRegistry.sol";
import {PositionManager} from "../../src/PositionManager.sol";
import {MockUSDC} from "../mocks/MockUSDC.sol";
import {Test} from "./Test.sol";

/// @notice The whole system in one place: USDC, the vault, the real registries and insurance fund, and the
/// PositionManager with every role granted to a named account. The test contract itself administers the registries
/// and holds their resolver and price pusher roles, so a test moves a market's phase or mark with a direct call.
/// Markets 1 and 2 are Active with the same tier and a fresh mark of 0.5; helpers fund accounts, build fills, sign
/// batches with the engine key and move marks (any move one second after the previous snapshot).
abstract contract SystemFixture is Test {
    uint64 internal constant DELAY = 1 days;
    uint64 internal constant MAX_SNAPSHOT_AGE = 1 hours;
    uint64 internal constant INACTIVITY = 3 days;
    int128 internal constant MAX_FUNDING_PER_SECOND = 10; // idx (1e-6 qq per contract) per second
    int64 internal constant MAX_MOVE_PER_SECOND = 1_000_000; // any mark move, one second after the last
    uint256 internal constant MAX_DRAW_PER_WINDOW = 1e15; // a billion USDC: the cap binds only where a test sets it
    uint64 internal constant DRAW_WINDOW = 1 hours;
    uint32 internal constant M1 = 1;
    uint32 internal constant M2 = 2;
    int64 internal constant MID = 500_000;
    uint256 internal constant ENGINE_KEY = 0xE17E;
    uint256 internal constant CASH = 1_000e6; // what a test's traders deposit (1,000 USDC)

    MockUSDC internal usdc;
    CollateralVault internal vault;
    MarketRegistry internal markets;
    MarketRiskRegistry internal risk;
    OracleRegistry internal oracles;
    InsuranceFund internal insurance;
    PositionManager internal pm;

    address internal admin = makeAddr("admin");
    address internal submitter = makeAddr("submitter");
    address internal fundingPusher = makeAddr("fundingPusher");
    address internal pauser = makeAddr("pauser");
    address internal guard = makeAddr("guard");
    address internal feeRecipient = makeAddr("feeRecipient");
    address internal engine = vm.addr(ENGINE_KEY);
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        usdc = new MockUSDC();
        vault = new CollateralVault(usdc, DELAY, admin);
        oracles = new OracleRegistry(address(this));
        markets = new MarketRegistry(address(this), oracles);
        risk = new MarketRiskRegistry(address(this), markets, MAX_SNAPSHOT_AGE, MAX_MOVE_PER_SECOND);
        insurance = new InsuranceFund(address(this), MAX_DRAW_PER_WINDOW, DRAW_WINDOW);
        pm = new PositionManager(
            admin, vault, markets, risk, oracles, insurance, feeRecipient, INACTIVITY, MAX_FUNDING_PER_SECOND
        );
        oracles.grantRole(Roles.RESOLVER, address(this));
        markets.grantRole(Roles.RESOLVER, address(this));
        risk.grantRole(Roles.PRICE_PUSHER, address(this));
        insurance.grantRole(Roles.POSITION_MANAGER, address(pm));
        vm.startPrank(admin);
        vault.grantRole(Roles.POSITION_MANAGER, address(pm));
        vault.grantRole(Roles.WITHDRAWAL_GUARD, guard);
        vault.setMarginOracle(pm);
        pm.grantRole(Roles.SUBMITTER, submitter);
        pm.grantRole(Roles.ENGINE_SIGNER, engine);
        pm.grantRole(Roles.FUNDING_PUSHER, fundingPusher);
        pm.grantRole(Roles.PAUSER, pauser);
        vm.stopPrank();
        _listMarket(M1);
        _listMarket(M2);
    }

    /// @dev 10 % initial, 5 % maintenance, no OI scaling, maker rebate 0.01 %, taker 0.05 %, 20 % of fees to
    /// insurance, fills within 5 % of the mark.
    function _tier() internal pure returns (IMarketRiskRegistry.RiskTier memory) {
        return IMarketRiskRegistry.RiskTier({
            baseImfPpm: 100_000,
            mmfPpm: 50_000,
            oiLowerCapQq: 0,
            oiUpperCapQq: 0,
            makerFeePpm: -100,
            takerFeePpm: 500,
            insuranceSharePpm: 200_000,
            priceBandPpm: 50_000
        });
    }

    function _listMarket(uint32 marketId) internal {
        markets.createMarket(marketId, bytes32(uint256(marketId)));
        markets.activate(marketId);
        risk.setRiskTier(marketId, _tier());
        _mark(marketId, MID);
    }

    /// @dev Pushes a snapshot at `markPpm` (index = mark), one second after the previous one if needed.
    function _mark(uint32 marketId, int64 markPpm) internal {
        uint64 ts = uint64(block.timestamp);
        try risk.latestSnapshot(marketId) returns (IMarketRiskRegistry.Snapshot memory s) {
            if (s.timestamp >= ts) {
                vm.warp(s.timestamp + 1);
                ts = s.timestamp + 1;
            }
        } catch {}
        risk.pushSnapshot(marketId, markPpm, markPpm, ts, markets.phaseOf(marketId));
    }

    function _fund(address account, uint256 amount) internal {
        usdc.mint(account, amount);
        vm.startPrank(account);
        usdc.approve(address(vault), amount);
        vault.deposit(amount);
        vm.stopPrank();
    }

    /// @dev Seeds a market's insurance fund with tokens that sit in the vault, as the fund's own deposits would.
    function _seedInsurance(uint32 marketId, uint256 amount) internal {
        usdc.mint(address(vault), amount);
        vm.prank(address(pm));
        insurance.credit(marketId, amount, InsuranceReasons.DEPOSIT);
    }

    function _fill(uint32 marketId, address maker, address taker, int64 size, int64 pricePpm)
        internal
        pure
        returns (IPositionManager.Fill memory)
    {
        return IPositionManager.Fill(marketId, IPositionManager.FillKind.Normal, maker, taker, size, pricePpm);
    }

    function _one(IPositionManager.Fill memory f) internal pure returns (IPositionManager.Fill[] memory fills) {
        fills = new IPositionManager.Fill[](1);
        fills[0] = f;
    }

    function _sign(uint256 key, uint64 seq, bytes32 prevHash, IPositionManager.Fill[] memory fills)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(abi.encode(pm.BATCH_TYPEHASH(), seq, prevHash, keccak256(abi.encode(fills))));
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = pm.eip712Domain();
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifying
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Signs the next batch with the engine key and submits it.
    function _execute(IPositionManager.Fill[] memory fills) internal {
        uint64 seq = pm.lastSeq() + 1;
        bytes memory signature = _sign(ENGINE_KEY, seq, pm.lastBatchHash(), fills);
        vm.prank(submitter);
        pm.executeTrade(seq, fills, signature);
    }

    function _trade(uint32 marketId, address maker, address taker, int64 size, int64 pricePpm) internal {
        _execute(_one(_fill(marketId, maker, taker, size, pricePpm)));
    }

    function _size(uint32 marketId, address account) internal view returns (int64) {
        return pm.positionOf(marketId, account).size;
    }
}
