export { startRealNebula, DEFAULT_CA_NAME, DEFAULT_FROM_IP, DEFAULT_TO_IP } from './real-nebula.ts';
export type {
  StartedRealNebula,
  StartRealNebulaOptions,
  RealFlowCase,
  RealFlowResult,
  RealNodeIdentity,
  RealNodeSpec,
  RealProto,
} from './real-nebula.ts';
export { realNebulaUnavailableReason } from './availability.ts';
export { buildNebulaConfig, DEFAULT_CONNTRACK } from './nebula-config.ts';
export type { NebulaConfigOptions } from './nebula-config.ts';
export { NebulaLabError } from './errors.ts';
export type { NebulaLabErrorCode } from './errors.ts';
