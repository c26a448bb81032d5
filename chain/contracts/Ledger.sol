// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Registrar} from "./Registrar.sol";

/// @title Ledger (MedRec "Summary"): anchored tree heads of the agents' RFC 6962 logs.
/// @notice Only the active agent registered for a log anchors it, with a strictly
/// increasing tree size. `Updated` notifies every patient whose records the batch holds.
/// `anchorAfter` adds a compare-and-swap on the previous size, so an agent never skips
/// a head the chain lost (rewind, reorg) without noticing.
contract Ledger {
    struct Head {
        uint64 treeSize;
        uint64 blockNumber;
        uint64 timestamp;
        uint64 count; // number of anchors of this log
        bytes32 root;
    }

    Registrar public immutable registrar;
    mapping(bytes32 => Head) private heads;

    event Anchored(bytes32 indexed logId, uint64 indexed treeSize, bytes32 root, uint64 prevTreeSize);
    event Updated(bytes32 indexed patientRef, bytes32 indexed logId, uint64 treeSize);

    error NotAgentOfLog(bytes32 logId, address caller);
    error NonIncreasingSize(uint64 latest, uint64 given);
    error StaleHead(uint64 latest, uint64 expected);
    error ZeroRoot();

    constructor(Registrar registrar_) {
        registrar = registrar_;
    }

    function anchor(bytes32 logId, uint64 treeSize, bytes32 root, bytes32[] calldata patientRefs) external {
        _authorize(logId);
        _anchor(logId, treeSize, root, patientRefs);
    }

    /// @notice Like `anchor`, but only if the latest anchored size is `prevTreeSize`.
    function anchorAfter(
        bytes32 logId,
        uint64 prevTreeSize,
        uint64 treeSize,
        bytes32 root,
        bytes32[] calldata patientRefs
    ) external {
        _authorize(logId);
        uint64 current = heads[logId].treeSize;
        if (current != prevTreeSize) revert StaleHead(current, prevTreeSize);
        _anchor(logId, treeSize, root, patientRefs);
    }

    function latest(bytes32 logId)
        external
        view
        returns (uint64 treeSize, bytes32 root, uint64 blockNumber, uint64 timestamp, uint64 count)
    {
        Head storage h = heads[logId];
        return (h.treeSize, h.root, h.blockNumber, h.timestamp, h.count);
    }

    function _authorize(bytes32 logId) private view {
        if (registrar.activeAgentOf(logId) != msg.sender) revert NotAgentOfLog(logId, msg.sender);
    }

    function _anchor(bytes32 logId, uint64 treeSize, bytes32 root, bytes32[] calldata patientRefs) private {
        Head storage h = heads[logId];
        uint64 prev = h.treeSize;
        if (treeSize <= prev) revert NonIncreasingSize(prev, treeSize);
        if (root == bytes32(0)) revert ZeroRoot();
        h.treeSize = treeSize;
        h.blockNumber = uint64(block.number);
        h.timestamp = uint64(block.timestamp);
        h.count += 1;
        h.root = root;
        emit Anchored(logId, treeSize, root, prev);
        for (uint256 i = 0; i < patientRefs.length; i++) {
            emit Updated(patientRefs[i], logId, treeSize);
        }
    }
}
