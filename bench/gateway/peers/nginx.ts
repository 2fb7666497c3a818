// nginx (Debian's): one worker, a keep-alive upstream pool, in the foreground, every path it
// writes inside the run's temp folder (so it needs no root and touches nothing of the system's).
import { join } from 'node:path';

export function nginxConfig(port: number, upstreamPort: number, dir: string): string {
  return `
worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'nginx-error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  upstream bench { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** `-e`: the error log before the config is read (Debian's default path needs root). */
export function nginxCommand(configFile: string, dir: string): [string, string[]] {
  return ['nginx', ['-p', dir, '-c', configFile, '-e', join(dir, 'nginx-error.log')]];
}
