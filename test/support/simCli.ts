import { Command } from 'commander';
import { vi } from 'vitest';
import { registerSimCommands } from '../../cli/commands/sim.ts';

/**
 * `vitalseal sim …` in-process (the commander program the CLI builds), with stdout/stderr captured
 * and the exit code the action set (or commander's, for a usage error). For the sim CLI tests.
 */
export async function runSimCli(args: readonly string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const w1 = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const w2 = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const program = new Command('vitalseal').exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerSimCommands(program);
  let code = 0;
  program.hook('postAction', (_t, action) => {
    code = (action as Command & { exitCodeValue?: number }).exitCodeValue ?? 0;
  });
  try {
    await program.parseAsync(['node', 'vitalseal', 'sim', ...args]);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  } finally {
    w1.mockRestore();
    w2.mockRestore();
  }
  return { out, err, code };
}
