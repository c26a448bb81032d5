import { CommanderError, type Command } from 'commander';
import { exitCodeOf, printError } from './output.ts';

/** Sets the exit code the command ends with (cli/main.ts and the test fixtures read it in a postAction hook). */
export function setExit(cmd: Command, code: number): void {
  (cmd as Command & { exitCodeValue?: number }).exitCodeValue = code;
}

/**
 * The one wrapper of every command's action: an error becomes one line on stderr, or
 * `{ ok: false, error: { code, message } }` on stdout when the command has --json, and the exit
 * code of its table's exit class (cli/output.ts exitCodeOf). Commander's own errors pass through.
 */
export function action<A extends unknown[]>(fn: (...args: A) => unknown) {
  return async (...args: A): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof CommanderError) throw e;
      printError(e, Boolean((cmd.optsWithGlobals() as { json?: boolean }).json));
      setExit(cmd, exitCodeOf(e));
    }
  };
}
