// What the benchmark compares: the upstream alone, two C proxies, four Node proxies (three
// peers and Baton) and the multi-core variants. Each target is one command, run in a process
// group of its own so that stopping it stops all of it (nginx's worker, cluster workers).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haproxyCommand, haproxyConfig } from './peers/haproxy.ts';
import { nginxCommand, nginxConfig } from './peers/nginx.ts';

export interface TargetContext {
  readonly port: number;
  readonly upstreamPort: number;
  /** A temp folder of the run's own, for generated configs and logs. */
  readonly dir: string;
}

export interface Target {
  readonly name: string;
  readonly what: string;
  /** Needs the npm peers in bench/.peers. */
  readonly npmPeers?: boolean;
  /** Absent for `direct`: wrk hits the upstream itself. */
  readonly command?: (context: TargetContext) => [string, string[]];
  /** Meant to use both cores: left unpinned under `--pin`. */
  readonly multiCore?: boolean;
}

const PEERS = join(import.meta.dirname, 'peers');

function nodePeer(script: string, workers?: number): (context: TargetContext) => [string, string[]] {
  return ({ port, upstreamPort }) => [
    process.execPath,
    [
      join(PEERS, script),
      '--port',
      String(port),
      '--upstream-port',
      String(upstreamPort),
      ...(workers === undefined ? [] : ['--workers', String(workers)]),
    ],
  ];
}

export const TARGETS: readonly Target[] = [
  { name: 'direct', what: 'wrk → upstream, no proxy' },
  {
    name: 'nginx',
    what: 'nginx, 1 worker, upstream keepalive 64, HTTP/1.1 to the upstream',
    command: ({ port, upstreamPort, dir }) => {
      const file = join(dir, `nginx-${port}.conf`);
      writeFileSync(file, nginxConfig(port, upstreamPort, dir));
      return nginxCommand(file, dir);
    },
  },
  {
    name: 'haproxy',
    what: 'HAProxy, 1 thread, http-reuse always',
    command: ({ port, upstreamPort, dir }) => {
      const file = join(dir, `haproxy-${port}.cfg`);
      writeFileSync(file, haproxyConfig(port, upstreamPort));
      return haproxyCommand(file);
    },
  },
  {
    name: 'undici-minimal',
    what: 'node:http + one undici Pool, nothing else (the Node ceiling)',
    command: nodePeer('undici-minimal.ts'),
  },
  {
    name: 'fastify-http-proxy',
    what: 'fastify 5 + @fastify/http-proxy, defaults',
    npmPeers: true,
    command: nodePeer('fastify-proxy.ts'),
  },
  {
    name: 'http-proxy',
    what: 'http-proxy on node:http with a keep-alive Agent',
    npmPeers: true,
    command: nodePeer('http-proxy.ts'),
  },
  {
    name: 'baton',
    what: "Baton's gateway: routing, round-robin, outlier detection, retry budget, rate limit, trace headers",
    command: nodePeer('baton.ts'),
  },
  {
    name: 'baton-east-west',
    what: "Baton's data plane between services: an east-west listener (a consumer's HOTEL_URL) → the upstream, range-filtered, same policies",
    command: nodePeer('baton-east-west.ts'),
  },
  {
    name: 'undici-cluster',
    what: 'undici-minimal under node:cluster, 2 workers',
    command: nodePeer('undici-minimal.ts', 2),
    multiCore: true,
  },
  {
    name: 'baton-cluster',
    what: "Baton's gateway, startGatewayCluster with 2 workers",
    command: nodePeer('baton-cluster.ts', 2),
    multiCore: true,
  },
];
