// Measures the simulated runtime at scale: 100,000 instances started, listed and stopped on a
// FakeClock. A benchmark, not a test: it reports, it asserts nothing about time.
// Run: node --expose-gc src/adapters/runtime/simulated/simulated-scale.bench.ts [count]
import { FakeClock } from '../../clock/fake-clock.ts';
import type { InstanceSpec } from '../../../ports/runtime.ts';
import { createSimulatedRuntime } from './simulated-runtime.ts';

const count = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heapMiB = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const specs: InstanceSpec[] = Array.from({ length: count }, (_, i) => ({
  id: `svc${i % 500}-${i}`,
  service: `svc${i % 500}`,
  version: '1.0.0',
  revision: 1,
  command: 'node',
  args: ['server.js'],
  cwd: '/srv',
  env: {},
  ports: [{ name: 'http' }],
}));
const clock = new FakeClock();
const runtime = createSimulatedRuntime({ clock });
const before = heapMiB();

let t = performance.now();
const starts = specs.map((spec) => runtime.start(spec));
await clock.advance(50);
await Promise.all(starts);
const startMs = performance.now() - t;
starts.length = 0;
const running = heapMiB();

t = performance.now();
const listed = await runtime.list();
const listMs = performance.now() - t;

t = performance.now();
const stops = listed.map((i) => runtime.stop(i.id, { graceMs: 1_000 }));
await clock.advance(10);
await Promise.all(stops);
const stopMs = performance.now() - t;

process.stdout.write(
  `${JSON.stringify({
    instances: count,
    startMs: Math.round(startMs),
    listMs: Math.round(listMs),
    stopMs: Math.round(stopMs),
    heapPerInstanceBytes: Math.round(((running - before) * 2 ** 20) / count),
    heapRunningMiB: Math.round((running - before) * 10) / 10,
    node: process.version,
  })}\n`,
);
