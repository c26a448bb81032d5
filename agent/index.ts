/**
 * Entry point `vitalseal/agent`: the edge agent a gateway embeds (broker, serial ingress, store,
 * Merkle log, query API, anchoring). The CLI (`vitalseal agent`) is a thin layer over these.
 */
export { startAgent, type RunningAgent, type StartAgentDeps } from './agent.ts';
export {
  agentConfigSchema,
  configFromEnv,
  parseAgentConfig,
  readConfigFile,
  resolveAgentConfig,
  ENV_KEYS,
  type AgentConfig,
} from './config.ts';
export { AgentError, AGENT_ERROR_CODES, type AgentErrorCode } from './errors.ts';
