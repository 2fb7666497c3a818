// Zero-code tracing for a Node service Baton runs with `telemetry: auto`: loaded before the
// service's own code through NODE_OPTIONS (`--import <this file>`), it starts OpenTelemetry's
// Node auto-instrumentation (HTTP in and out, fetch, Express and other frameworks, database
// and cache clients), configured by the OTEL_* variables Baton sets: spans go to the control
// plane's OTLP endpoint under the instance's own identity.
//
// Plain JavaScript on purpose: it runs on whatever Node the service runs (20.6 or later),
// not only Baton's. Its imports resolve from here, so Baton's node_modules provide them and
// the service needs none of its own.
import { register } from 'node:module';

// ES modules are hooked by OpenTelemetry's loader; CommonJS by require hooks (below).
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
await import('@opentelemetry/auto-instrumentations-node/register');
