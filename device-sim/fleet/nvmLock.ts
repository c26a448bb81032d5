import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { simFail } from '../errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * One simulator per NVM directory: `<dir>/LOCK` holds the owner's pid. A lock left by a
 * process that no longer exists (kill -9) is taken over. SIM_NVM_LOCKED otherwise.
 */
export function lockNvmDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') return simFail('SIM_NVM_IO', 'cannot create the NVM lock', e);
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        /* vanished meanwhile */
      }
      if (Number.isSafeInteger(owner) && owner !== process.pid && alive(owner))
        simFail('SIM_NVM_LOCKED', `NVM directory is used by pid ${owner}`);
      rmSync(path, { force: true });
    }
  }
  return simFail('SIM_NVM_LOCKED');
}
