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
import { serveAgentChild } from '../support/agentChild.ts';

const [dataDir, portArg] = process.argv.slice(2);
if (!dataDir || portArg === undefined) {
  console.error('usage: crashChild.ts <dataDir> <mqttPort>');
  process.exit(2);
}

const agent = await startAgent(
  parseAgentConfig({ dataDir, mode: 'embedded', mqtt: { port: Number(portArg) }, http: { port: 0 }, logLevel: 'silent' }),
  { defaultMetrics: false },
);
serveAgentChild(agent);
