// OpenTelemetry's own auto-instrumentation of node:http, registered the way its docs say
// for ESM: the import-in-the-middle module hook first, then the instrumentation. Spans go to
// memory; auto-app.ts prints them. With HOOK=off the hook is skipped.
import { register } from 'node:module';
import process from 'node:process';
import { createAddHookMessageChannel } from 'import-in-the-middle';

const hooked = process.env.HOOK !== 'off';
let ready = async () => {};
if (hooked) {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  ready = waitForAllMessagesAcknowledged;
}
const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
const { SimpleSpanProcessor, InMemorySpanExporter } = await import('@opentelemetry/sdk-trace-base');
const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
await ready();
globalThis.autoExporter = exporter;
