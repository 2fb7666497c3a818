import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AUTO_REGISTER, autoTelemetryEnvironment } from './auto-telemetry.ts';

describe('autoTelemetryEnvironment', () => {
  const base = {
    BATON_SERVICE: 'web',
    BATON_INSTANCE: 'web-1',
    BATON_VERSION: '1.2.0',
    BATON_SERVER: 'http://127.0.0.1:7070/',
    BATON_TOKEN: 'tok',
  };

  it('loads the register module Baton ships and points OpenTelemetry at the control plane', () => {
    assert.ok(existsSync(AUTO_REGISTER), AUTO_REGISTER);
    const env = autoTelemetryEnvironment({ ...base, NODE_OPTIONS: '--max-old-space-size=256' });
    assert.equal(env['NODE_OPTIONS'], `--max-old-space-size=256 --import ${AUTO_REGISTER}`);
    assert.equal(env['OTEL_SERVICE_NAME'], 'web');
    assert.equal(env['OTEL_RESOURCE_ATTRIBUTES'], 'service.instance.id=web-1,service.version=1.2.0');
    assert.equal(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'], 'http://127.0.0.1:7070/v1/traces');
    assert.equal(env['OTEL_EXPORTER_OTLP_TRACES_HEADERS'], 'authorization=Bearer tok');
  });

  it("leaves the manifest's own OTEL_* alone", () => {
    const env = autoTelemetryEnvironment({
      ...base,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_SERVICE_NAME: 'storefront',
    });
    assert.equal(env['OTEL_SERVICE_NAME'], undefined);
    assert.equal(env['OTEL_TRACES_SAMPLER'], undefined);
  });

  it("exports to the first of several replicas (the instance's own machine's)", () => {
    const env = autoTelemetryEnvironment({
      ...base,
      BATON_SERVER: 'http://127.0.0.1:7070,http://127.0.0.1:7071',
    });
    assert.equal(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'], 'http://127.0.0.1:7070/v1/traces');
  });
});
