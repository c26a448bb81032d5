/** Collects gasUsed per contract function during the contract tests; printed and written as JSON. */
import { writeFileSync } from 'node:fs';
import { PINNED_SOLC_VERSION, SOLC_SETTINGS } from '../../chain/solcVersion.ts';

export interface GasRow {
  calls: number;
  min: number;
  max: number;
  avg: number;
}

export class GasReport {
  private readonly rows = new Map<string, number[]>();

  record(name: string, gasUsed: bigint): void {
    const list = this.rows.get(name) ?? [];
    list.push(Number(gasUsed));
    this.rows.set(name, list);
  }

  table(): Record<string, GasRow> {
    const out: Record<string, GasRow> = {};
    for (const name of [...this.rows.keys()].sort()) {
      const v = this.rows.get(name)!;
      out[name] = { calls: v.length, min: Math.min(...v), max: Math.max(...v), avg: Math.round(v.reduce((a, b) => a + b, 0) / v.length) };
    }
    return out;
  }

  format(): string {
    const t = this.table();
    const w = Math.max(...Object.keys(t).map((k) => k.length), 8);
    const lines = [`${'function'.padEnd(w)}  calls      min      avg      max`];
    for (const [k, r] of Object.entries(t)) {
      lines.push(
        `${k.padEnd(w)}  ${String(r.calls).padStart(5)}  ${String(r.min).padStart(7)}  ${String(r.avg).padStart(7)}  ${String(r.max).padStart(7)}`,
      );
    }
    return lines.join('\n');
  }

  write(path: string): void {
    const doc = {
      description: 'gasUsed per contract function, measured by test/chain/contracts.test.ts on the embedded chain (anvil)',
      solc: PINNED_SOLC_VERSION,
      optimizerRuns: SOLC_SETTINGS.optimizer.runs,
      evmVersion: SOLC_SETTINGS.evmVersion,
      functions: this.table(),
    };
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  }
}
