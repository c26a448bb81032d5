/**
 * An agent in its own process, for the crash test (and anything else that must kill -9 it):
 *
 *   node --import tsx test/agent/crashChild.ts <dataDir> <mqttPort>
 *
 * Prints one JSON line {"ready":true,"pid","mqttPort","httpPort"} on stdout once it listens.
 * SIGTERM stops it gracefully (exit 0); SIGKILL is the crash under test.
 */
import { startAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';

const [dataDir, portArg] = process.argv.slice(2);
if (!dataDir || portArg === undefined) {
  console.error('usage: crashChild.ts <dataDir> <mqttPort>');
  process.exit(2);
}

const agent = await startAgent(
  parseAgentConfig({ dataDir, mode: 'embedded', mqtt: { port: Number(portArg) }, http: { port: 0 }, logLevel: 'silent' }),
  { defaultMetrics: false },
);
process.stdout.write(
  `${JSON.stringify({ ready: true, pid: process.pid, mqttPort: agent.mqttAddress!.port, httpPort: agent.httpAddress.port })}\n`,
);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  agent.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
});
