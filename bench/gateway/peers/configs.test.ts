// The generated configs, checked by the servers themselves (`nginx -t`, `haproxy -c`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { haproxyCommand, haproxyConfig } from './haproxy.ts';
import { nginxCommand, nginxConfig } from './nginx.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-gateway-configs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('generated configs', () => {
  it('nginx accepts its config, with one worker and a keep-alive upstream', () => {
    const file = join(dir, 'nginx.conf');
    const text = nginxConfig(18_101, 18_100, dir);
    writeFileSync(file, text);
    const [command, args] = nginxCommand(file, dir);
    const check = spawnSync(command, [...args, '-t'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    assert.match(text, /worker_processes 1;/);
    assert.match(text, /server 127\.0\.0\.1:18100; keepalive 64;/);
  });

  it('haproxy accepts its config, with one thread and http-reuse always', () => {
    const file = join(dir, 'haproxy.cfg');
    const text = haproxyConfig(18_101, 18_100);
    writeFileSync(file, text);
    const [command, args] = haproxyCommand(file);
    const check = spawnSync(command, [...args, '-c'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.doesNotMatch(check.stdout + check.stderr, /WARNING/);
    assert.match(text, /nbthread 1/);
    assert.match(text, /http-reuse always/);
  });
});
