// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Registrar} from "./Registrar.sol";

/// @title Consent (MedRec "Provider-Patient-Relationship"): who may read what, until when.
/// @notice A scope is a bytes32 whose first byte is its kind:
///   0x00 all of the patient's data (the whole word is zero);
///   0x01 one sensor type (UTF-8 name, 1..31 bytes, zero padded);
///   0x02 one session (16-byte kid in bytes 1..16, the rest zero).
/// A grant of "all" covers every scope. An emergency clinician can break the glass:
/// time-limited access to all of a patient's data, counted and announced to the patient.
contract Consent {
    bytes32 public constant SCOPE_ALL = bytes32(0);

    Registrar public immutable registrar;
    uint64 public immutable breakGlassSeconds;

    // patient => grantee => scope => last second (inclusive) of access; 0 = none
    mapping(address => mapping(address => mapping(bytes32 => uint64))) private grants;
    // patient => emergency clinician => last second of break-glass access
    mapping(address => mapping(address => uint64)) private emergencyUntil;
    mapping(address => uint256) public breakGlassCount;

    event Granted(address indexed patient, address indexed grantee, bytes32 indexed scope, uint64 notAfter);
    event Revoked(address indexed patient, address indexed grantee, bytes32 indexed scope);
    event BreakGlass(
        bytes32 indexed patientRef, address indexed patient, address indexed clinician, bytes32 reasonHash, uint64 notAfter
    );

    error NotActivePatient(address account);
    error GranteeNotActive(address grantee);
    error SelfGrant();
    error BadScope(bytes32 scope);
    error NotAfterInPast(uint64 notAfter);
    error NoSuchGrant(address patient, address grantee, bytes32 scope);
    error NotEmergencyClinician(address caller);
    error ZeroReason();

    constructor(Registrar registrar_, uint64 breakGlassSeconds_) {
        registrar = registrar_;
        breakGlassSeconds = breakGlassSeconds_;
    }

    /// @notice The calling patient lets `grantee` read `scope` until `notAfter` (inclusive).
    function grant(address grantee, bytes32 scope, uint64 notAfter) external {
        if (!registrar.hasRole(msg.sender, Registrar.Role.Patient)) revert NotActivePatient(msg.sender);
        if (grantee == msg.sender) revert SelfGrant();
        if (!registrar.isActive(grantee)) revert GranteeNotActive(grantee);
        checkScope(scope);
        if (notAfter <= block.timestamp) revert NotAfterInPast(notAfter);
        grants[msg.sender][grantee][scope] = notAfter;
        emit Granted(msg.sender, grantee, scope, notAfter);
    }

    /// @notice The calling patient withdraws a grant (allowed even after its own revocation).
    function revoke(address grantee, bytes32 scope) external {
        if (grants[msg.sender][grantee][scope] == 0) revert NoSuchGrant(msg.sender, grantee, scope);
        delete grants[msg.sender][grantee][scope];
        emit Revoked(msg.sender, grantee, scope);
    }

    /// @notice An emergency clinician opens the patient's data for `breakGlassSeconds`.
    function breakGlass(address patient, bytes32 reasonHash) external returns (uint64 notAfter) {
        if (!registrar.hasRole(msg.sender, Registrar.Role.EmergencyClinician)) revert NotEmergencyClinician(msg.sender);
        if (!registrar.hasRole(patient, Registrar.Role.Patient)) revert NotActivePatient(patient);
        if (reasonHash == bytes32(0)) revert ZeroReason();
        notAfter = uint64(block.timestamp) + breakGlassSeconds;
        emergencyUntil[patient][msg.sender] = notAfter;
        breakGlassCount[patient] += 1;
        emit BreakGlass(registrar.idOf(patient), patient, msg.sender, reasonHash, notAfter);
    }

    /// @notice True if `grantee` may read `scope` of `patient` now: the patient itself, an
    /// unexpired grant of that scope or of all, or an unexpired break-glass. Both must hold
    /// active registrations. "Now" is the block's time; see hasAccessAt for the caller's clock.
    function hasAccess(address patient, address grantee, bytes32 scope) external view returns (bool) {
        return hasAccessAt(patient, grantee, scope, 0);
    }

    /// @notice hasAccess at the later of `at` (the caller's clock, Unix seconds) and the block's
    /// time. A node mines only when a transaction arrives, so on an idle chain block.timestamp
    /// lags the wall clock; a reader passes its own clock to see an expiry when it happens.
    /// A caller can only make the check stricter (later), never revive an expired grant.
    function hasAccessAt(address patient, address grantee, bytes32 scope, uint64 at) public view returns (bool) {
        if (!registrar.hasRole(patient, Registrar.Role.Patient)) return false;
        if (patient == grantee) return true;
        if (!registrar.isActive(grantee)) return false;
        uint256 t = at > block.timestamp ? at : block.timestamp;
        if (grants[patient][grantee][scope] >= t) return true;
        if (scope != SCOPE_ALL && grants[patient][grantee][SCOPE_ALL] >= t) return true;
        if (emergencyUntil[patient][grantee] >= t) {
            return registrar.hasRole(grantee, Registrar.Role.EmergencyClinician);
        }
        return false;
    }

    /// @notice Access check for one reading: its sensor type scope or its session scope.
    function canRead(address patient, address grantee, bytes32 sensorScope, bytes32 sessionScope)
        external
        view
        returns (bool)
    {
        return canReadAt(patient, grantee, sensorScope, sessionScope, 0);
    }

    /// @notice canRead at the later of `at` (the caller's clock) and the block's time.
    function canReadAt(address patient, address grantee, bytes32 sensorScope, bytes32 sessionScope, uint64 at)
        public
        view
        returns (bool)
    {
        return hasAccessAt(patient, grantee, sensorScope, at) || hasAccessAt(patient, grantee, sessionScope, at);
    }

    function grantExpiry(address patient, address grantee, bytes32 scope) external view returns (uint64) {
        return grants[patient][grantee][scope];
    }

    function emergencyAccessUntil(address patient, address clinician) external view returns (uint64) {
        return emergencyUntil[patient][clinician];
    }

    /// @notice Reverts with BadScope unless `scope` is well formed.
    function checkScope(bytes32 scope) public pure {
        uint8 kind = uint8(scope[0]);
        bytes32 body = scope << 8;
        if (kind == 0) {
            if (body != bytes32(0)) revert BadScope(scope);
        } else if (kind == 1) {
            if (body == bytes32(0)) revert BadScope(scope);
        } else if (kind == 2) {
            // kid in bytes 1..16, bytes 17..31 zero
            if (scope << 136 != bytes32(0)) revert BadScope(scope);
        } else {
            revert BadScope(scope);
        }
    }
}
