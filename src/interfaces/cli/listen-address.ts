// `--listen` and `--gateway` values: HOST:PORT, [IPv6]:PORT or a bare port.
import { InvalidArgumentError } from 'commander';

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:7070 or 0.0.0.0:7070');
  }
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}
