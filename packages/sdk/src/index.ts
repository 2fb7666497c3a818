// @baton/sdk: OpenTelemetry tracing for a service that Baton runs (start it once, wrap the
// server's listener and the outgoing calls), its config, pushed, and discovery, watched; all
// three move to another control-plane replica when theirs dies. See README.md.
export { startTracing, type Tracing, type TracingOptions } from './tracing.ts';
export {
  currentTraceId,
  isBatonProbe,
  setRoute,
  traceDiscovery,
  tracedFetch,
  traceOutgoing,
  traceRequests,
  type OutgoingCall,
} from './http.ts';
export {
  connectConfig,
  type Config,
  type ConfigOptions,
  type ConfigValue,
  type ConfigValues,
} from './config.ts';
export { watchDiscovery, type DiscoveryOptions, type DiscoveryWatch, type Endpoint } from './discovery.ts';
export { serverList } from './servers.ts';
