// Instance and service lifecycles: phases, transition tables, and the derived service phase.
export {
  INITIAL_INSTANCE_PHASE,
  INSTANCE_CAUSE_RULES,
  INSTANCE_CAUSES,
  INSTANCE_PHASES,
  INSTANCE_TRANSITIONS,
  isInstancePhase,
  isTerminalInstancePhase,
  transitionInstance,
} from './instance-lifecycle.ts';
export type { InstanceCause, InstancePhase } from './instance-lifecycle.ts';
export {
  INITIAL_SERVICE_PHASE,
  isServicePhase,
  SERVICE_CAUSE_RULES,
  SERVICE_CAUSES,
  SERVICE_PHASES,
  SERVICE_TRANSITIONS,
  transitionService,
} from './service-lifecycle.ts';
export type { ServiceCause, ServicePhase } from './service-lifecycle.ts';
export { SERVICE_OPERATIONS, serviceStatus } from './service-status.ts';
export type { InstanceFact, ServiceFacts, ServiceOperation, ServiceStatus } from './service-status.ts';
export type { CauseRule, TransitionVerdict } from './transition-check.ts';
