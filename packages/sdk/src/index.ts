// @baton/sdk: OpenTelemetry tracing for a service that Baton runs. Start it once, wrap the
// server's listener and the outgoing calls; see README.md.
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
