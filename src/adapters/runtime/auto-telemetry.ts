// What `telemetry: auto` adds to a Node instance's environment: NODE_OPTIONS loading Baton's
// register module (packages/sdk/auto/register.mjs: OpenTelemetry's Node auto-instrumentation),
// and the OTEL_* variables that point it at the control plane with the instance's identity.
// The manifest's own OTEL_* values win (e.g. a sampler), and NODE_OPTIONS keeps what it had.
import { fileURLToPath } from 'node:url';

export const AUTO_REGISTER = fileURLToPath(
  new URL('../../../packages/sdk/auto/register.mjs', import.meta.url),
);

export function autoTelemetryEnvironment(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  const preset = (name: string, value: string | undefined) => {
    if (value !== undefined && env[name] === undefined) out[name] = value;
  };
  // Several replicas (comma-separated): OTel's exporter takes one endpoint, so the first, this
  // machine's own replica (the SDK's exporter moves on to the others; this one does not).
  const server = env['BATON_SERVER']?.split(',')[0];
  preset('OTEL_SERVICE_NAME', env['BATON_SERVICE']);
  preset(
    'OTEL_RESOURCE_ATTRIBUTES',
    `service.instance.id=${env['BATON_INSTANCE'] ?? ''},service.version=${env['BATON_VERSION'] ?? ''}`,
  );
  preset('OTEL_TRACES_EXPORTER', 'otlp');
  preset('OTEL_METRICS_EXPORTER', 'none');
  preset('OTEL_LOGS_EXPORTER', 'none');
  preset('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf');
  // Spans on the map within a second or two, as the data plane's own are.
  preset('OTEL_BSP_SCHEDULE_DELAY', '1000');
  if (server !== undefined)
    preset('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', `${server.replace(/\/+$/, '')}/v1/traces`);
  if (env['BATON_TOKEN'] !== undefined)
    preset('OTEL_EXPORTER_OTLP_TRACES_HEADERS', `authorization=Bearer ${env['BATON_TOKEN']}`);
  // The host's and process's attributes cost a start-up probe each and say little here.
  preset('OTEL_NODE_RESOURCE_DETECTORS', 'env');
  const quoted = AUTO_REGISTER.includes(' ') ? JSON.stringify(AUTO_REGISTER) : AUTO_REGISTER;
  out['NODE_OPTIONS'] = [env['NODE_OPTIONS'], `--import ${quoted}`].filter(Boolean).join(' ');
  return out;
}
