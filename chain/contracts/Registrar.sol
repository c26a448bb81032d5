// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Registrar (MedRec "Registrar"): pseudonymous ids, roles and keys.
/// @notice The admin is the ward authority: it registers providers, agents, clinicians,
/// emergency clinicians and researchers. Patients register themselves. Every participant
/// can rotate its public key and move its registration to a new account (key rotation);
/// the admin can move any registration (lost or compromised key). Registrations can be
/// revoked, permanently, by the admin or by their holder. An account that held a
/// registration is retired when the registration moves away and cannot register again.
contract Registrar {
    enum Role {
        None,
        Patient,
        Provider,
        Agent,
        Clinician,
        EmergencyClinician,
        Researcher
    }

    struct Registration {
        bytes32 id; // pseudonym (e.g. SHA-256 of a salted patient id); never personal data
        bytes32 pubKey; // the participant's public key (X25519 / Ed25519), rotatable
        bytes32 logId; // agents only: SHA-256 of the agent's Ed25519 public key
        Role role;
        bool revoked;
        uint64 registeredAt;
    }

    address public admin;
    mapping(address => Registration) private regs;
    mapping(address => bool) public retired;
    /// @notice Current account of a pseudonymous id (stays set after revocation).
    mapping(bytes32 => address) public accountOf;
    /// @notice Account bound to an agent's log (stays set after revocation).
    mapping(bytes32 => address) public agentOfLog;

    event AdminChanged(address indexed previousAdmin, address indexed newAdmin);
    event Registered(bytes32 indexed id, address indexed account, Role role, bytes32 pubKey, bytes32 logId);
    event KeyRotated(bytes32 indexed id, address indexed account, bytes32 pubKey);
    event AccountMoved(bytes32 indexed id, address indexed oldAccount, address indexed newAccount);
    event RegistrationRevoked(bytes32 indexed id, address indexed account, address by);

    error NotAdmin(address caller);
    error ZeroValue();
    error BadRole(Role role);
    error AlreadyRegistered(address account);
    error AccountRetired(address account);
    error IdTaken(bytes32 id);
    error LogIdTaken(bytes32 logId);
    error NotRegistered(address account);
    error RegistrationIsRevoked(address account);
    error NotAuthorized(address caller);

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    constructor() {
        admin = msg.sender;
        emit AdminChanged(address(0), msg.sender);
    }

    function setAdmin(address newAdmin) external onlyAdmin {
        if (newAdmin == address(0)) revert ZeroValue();
        emit AdminChanged(admin, newAdmin);
        admin = newAdmin;
    }

    /// @notice A patient registers itself under a pseudonymous id.
    function registerPatient(bytes32 id, bytes32 pubKey) external {
        _register(msg.sender, id, Role.Patient, pubKey, bytes32(0));
    }

    /// @notice The admin registers a provider (ward), clinician, emergency clinician or researcher.
    function register(address account, bytes32 id, Role role, bytes32 pubKey) external onlyAdmin {
        if (role == Role.None || role == Role.Patient || role == Role.Agent) revert BadRole(role);
        _register(account, id, role, pubKey, bytes32(0));
    }

    /// @notice The admin binds an edge agent's account to its log.
    function registerAgent(address account, bytes32 id, bytes32 logId, bytes32 pubKey) external onlyAdmin {
        if (logId == bytes32(0)) revert ZeroValue();
        if (agentOfLog[logId] != address(0)) revert LogIdTaken(logId);
        _register(account, id, Role.Agent, pubKey, logId);
        agentOfLog[logId] = account;
    }

    /// @notice The holder replaces its registered public key.
    function rotateKey(bytes32 newPubKey) external {
        Registration storage r = _active(msg.sender);
        r.pubKey = newPubKey;
        emit KeyRotated(r.id, msg.sender, newPubKey);
    }

    /// @notice Moves a registration to a new account (signing-key rotation). Called by the
    /// holder, or by the admin when the old key is lost. The old account is retired.
    function moveAccount(address oldAccount, address newAccount) external {
        if (msg.sender != oldAccount && msg.sender != admin) revert NotAuthorized(msg.sender);
        if (newAccount == address(0)) revert ZeroValue();
        Registration memory r = _active(oldAccount);
        if (regs[newAccount].role != Role.None) revert AlreadyRegistered(newAccount);
        if (retired[newAccount]) revert AccountRetired(newAccount);
        regs[newAccount] = r;
        delete regs[oldAccount];
        retired[oldAccount] = true;
        accountOf[r.id] = newAccount;
        if (r.role == Role.Agent) agentOfLog[r.logId] = newAccount;
        emit AccountMoved(r.id, oldAccount, newAccount);
    }

    /// @notice Revokes a registration for good (admin or holder).
    function revoke(address account) external {
        if (msg.sender != account && msg.sender != admin) revert NotAuthorized(msg.sender);
        Registration storage r = _active(account);
        r.revoked = true;
        emit RegistrationRevoked(r.id, account, msg.sender);
    }

    function registration(address account) external view returns (Registration memory) {
        return regs[account];
    }

    function isActive(address account) public view returns (bool) {
        Registration storage r = regs[account];
        return r.role != Role.None && !r.revoked;
    }

    function hasRole(address account, Role role) external view returns (bool) {
        Registration storage r = regs[account];
        return r.role == role && role != Role.None && !r.revoked;
    }

    function idOf(address account) external view returns (bytes32) {
        return regs[account].id;
    }

    /// @notice The account allowed to anchor `logId` now, or address(0).
    function activeAgentOf(bytes32 logId) external view returns (address) {
        address a = agentOfLog[logId];
        return (a != address(0) && isActive(a)) ? a : address(0);
    }

    function _register(address account, bytes32 id, Role role, bytes32 pubKey, bytes32 logId) private {
        if (account == address(0) || id == bytes32(0)) revert ZeroValue();
        if (regs[account].role != Role.None) revert AlreadyRegistered(account);
        if (retired[account]) revert AccountRetired(account);
        if (accountOf[id] != address(0)) revert IdTaken(id);
        regs[account] = Registration(id, pubKey, logId, role, false, uint64(block.timestamp));
        accountOf[id] = account;
        emit Registered(id, account, role, pubKey, logId);
    }

    function _active(address account) private view returns (Registration storage r) {
        r = regs[account];
        if (r.role == Role.None) revert NotRegistered(account);
        if (r.revoked) revert RegistrationIsRevoked(account);
    }
}
