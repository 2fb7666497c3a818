// HAProxy (Debian's): one thread, server connections reused across clients (`http-reuse
// always`), in the foreground (`-db`), no stats socket, logging off.
export function haproxyConfig(port: number, upstreamPort: number): string {
  return `
global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always

frontend bench
  bind 127.0.0.1:${port}
  default_backend upstream

backend upstream
  server upstream 127.0.0.1:${upstreamPort}
`;
}

export function haproxyCommand(configFile: string): [string, string[]] {
  return ['haproxy', ['-db', '-f', configFile]];
}
