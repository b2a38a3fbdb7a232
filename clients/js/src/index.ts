export * from "./agentwire.js";
export { AgentWireAgent, type AgentWireAgentConfig } from "./agent.js";
