/**
 * A whole agent (embedded broker + embedded chain) in its own process, for tests that must kill -9 it:
 *
 *   node --import tsx test/adversarial/chainAgentChild.ts <dataDir>
 *
 * Prints one JSON line {"ready":true,"pid","mqttPort","httpPort"} on stdout once it listens.
 * SIGTERM stops it gracefully (exit 0); SIGKILL is the crash under test. A failed start exits 1
 * with the error (and its code) on stderr.
 */
import { startAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { serveAgentChild } from '../support/agentChild.ts';

const [dataDir] = process.argv.slice(2);
if (!dataDir) {
  console.error('usage: chainAgentChild.ts <dataDir>');
  process.exit(2);
}

let agent: Awaited<ReturnType<typeof startAgent>>;
try {
  agent = await startAgent(
    parseAgentConfig({
      dataDir,
      mode: 'embedded',
      mqtt: { port: 0 },
      http: { port: 0 },
      logLevel: 'silent',
      chain: { mode: 'embedded', intervalMs: 250 },
    }),
    { defaultMetrics: false },
  );
} catch (e) {
  const code = (e as { code?: unknown }).code;
  console.error(`start failed: ${typeof code === 'string' ? code : ''} ${(e as Error).message}`);
  process.exit(1);
}
serveAgentChild(agent);
