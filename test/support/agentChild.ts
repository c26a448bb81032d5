import type { RunningAgent } from '../../agent/agent.ts';

/**
 * The child-process side of the crash and kill -9 tests: announce the running agent on stdout as one JSON
 * line ({ready, pid, mqttPort, httpPort}) and stop it cleanly on SIGTERM (exit 0, or 1 if the stop fails).
 */
export function serveAgentChild(agent: RunningAgent): void {
  process.stdout.write(
    `${JSON.stringify({ ready: true, pid: process.pid, mqttPort: agent.mqttAddress?.port, httpPort: agent.httpAddress.port })}\n`,
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
}
