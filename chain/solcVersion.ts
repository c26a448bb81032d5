/** The one solc release the committed artifacts are built with (npm `solc`). */
export const PINNED_SOLC_VERSION = '0.8.37+commit.f401782d.Emscripten.clang';

/** Compiler settings; `paris` (no PUSH0) so the contracts also run on older consortium chains. */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'paris',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
} as const;

/** Contracts, in deployment order. */
export const CONTRACT_NAMES = ['Registrar', 'Consent', 'Ledger'] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];
