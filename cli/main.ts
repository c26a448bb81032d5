import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODES_HELP, exitCodeOf, printError } from './output.ts';
import { registerCryptoCommands } from './commands/crypto.ts';
import { registerAgentCommands } from './commands/agent.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { optionalCommandModules } from './registry.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vitalseal')
    .description(
      'Encrypted medical-device telemetry: HPKE-sealed readings, an edge agent with a Merkle transparency log, on-chain anchoring',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride() // before the subcommands are added, so they inherit it
    .addHelpText('after', EXIT_CODES_HELP);
  registerDemoCommand(program);
  registerCryptoCommands(program);
  registerAgentCommands(program);
  for (const register of optionalCommandModules) register(program);
  for (const c of program.commands) c.addHelpText('after', EXIT_CODES_HELP);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let exitCode: number = EXIT.OK;
  program.hook('postAction', (_this, action) => {
    const c = (action as Command & { exitCodeValue?: number }).exitCodeValue;
    if (typeof c === 'number') exitCode = c;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const json = argv.includes('--json');
    printError(e, json);
    return exitCodeOf(e);
  }
}
