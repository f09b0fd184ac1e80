export { NetworkError } from './errors.ts';
export type { NetworkErrorCode, NetworkErrorOptions } from './errors.ts';
export { NodeIdentitySchema } from './identity.ts';
export type { NodeIdentity } from './identity.ts';
export { parsePrefix } from './cidr.ts';
export type { Prefix } from './cidr.ts';
export { FirewallConfigSchema, FirewallRuleConfigSchema, parseFirewall, renderRule } from './firewall.ts';
export type {
  Direction,
  Firewall,
  FirewallAction,
  FirewallConfig,
  FirewallRule,
  FirewallRuleConfig,
  PortMatch,
  Proto,
} from './firewall.ts';
export { describeFlowVerdict, evaluateFlow, evaluateSide, serviceFlows } from './evaluate.ts';
export type { FlowNode, FlowQuery, FlowVerdict, SideVerdict } from './evaluate.ts';
export { Conntrack, TrackedFlow } from './conntrack.ts';
export type { PacketDirection, PacketVerdict, TrackedQuery } from './conntrack.ts';
export { CURRENT_NEBULA, NEBULA_VERSIONS, NebulaVersionSchema, denyAnsweredBy, describeDenial, nebulaBehaviour } from './versions.ts';
export type { NebulaBehaviour, NebulaVersion } from './versions.ts';
export { NameRegistry, createNames } from './names.ts';
export type { NameRegistryOptions, NetworkNode, NetworkService, Resolution } from './names.ts';
export { startNetwork } from './egress.ts';
export type { EgressListen, HeldFlow, NetworkEvent, NetworkEventListener, StartNetworkOptions, StartedNetwork } from './egress.ts';
export { SHIM_UPDATE_FILE, ShimConfigSchema, ShimUpdateSchema, startShim } from './shim.ts';
export type { ShimConfig, ShimLine, ShimUpdate, StartedShim } from './shim.ts';
export { runFirewallCheck } from './firewall-check.ts';
export type { CommandOutcome, FirewallCheckOptions, FirewallCheckReport } from './firewall-check.ts';
