import type { Command } from 'commander';
import { registerChainCommands } from './commands/chain.ts';
import { registerBenchCommands } from './commands/bench.ts';
import { registerWalletCommands } from './commands/wallet.ts';
import { registerRecordsCommands } from './commands/records.ts';
import { registerResearchCommands } from './commands/research.ts';
import { registerSimCommands } from './commands/sim.ts';
import { registerConformCommands } from './commands/conform.ts';

/** Command groups owned by other layers (chain, simulator, wallet, bench) register here. */
export const optionalCommandModules: Array<(program: Command) => void> = [
  registerChainCommands,
  registerBenchCommands,
  registerWalletCommands,
  registerRecordsCommands,
  registerResearchCommands,
  registerSimCommands,
  registerConformCommands,
];
