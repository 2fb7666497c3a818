// @baton/sdk: OpenTelemetry tracing for a service that Baton runs (start it once, wrap the
// server's listener and the outgoing calls), and its config, pushed; see README.md.
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
