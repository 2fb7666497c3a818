// The connection to a Docker Engine, and the one check that it answers.
import Docker from 'dockerode';
import { BatonError } from '../../../domain/errors.ts';

export interface EngineInfo {
  /** The engine's version, e.g. 20.10.24. */
  readonly version: string;
  readonly apiVersion: string;
  /** The machine the engine runs on. */
  readonly name: string;
  readonly cgroupVersion: string;
}

/**
 * `unix:///path`, `tcp://host:port` (as DOCKER_HOST), or undefined for the default socket.
 * TLS (DOCKER_TLS_VERIFY) is not wired: the engine Baton drives is on its own machine.
 */
export function connectEngine(dockerHost?: string | undefined): Docker {
  if (dockerHost === undefined || dockerHost === '')
    return new Docker({ socketPath: '/var/run/docker.sock' });
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp) return new Docker({ host: tcp[1]!, port: Number(tcp[2]), protocol: 'http' });
  throw new BatonError('bad-request', `DOCKER_HOST ${JSON.stringify(dockerHost)} is not understood`, {
    hint: 'use unix:///var/run/docker.sock or tcp://HOST:PORT',
  });
}

/** Answers with the engine's identity, or fails saying how to start one. */
export async function checkEngine(docker: Docker, where = describeEngine(docker)): Promise<EngineInfo> {
  try {
    const info = (await docker.info()) as {
      ServerVersion: string;
      Name: string;
      CgroupVersion?: string;
    };
    const version = (await docker.version()) as { ApiVersion: string };
    return {
      version: info.ServerVersion,
      apiVersion: version.ApiVersion,
      name: info.Name,
      cgroupVersion: info.CgroupVersion ?? '1',
    };
  } catch (error) {
    throw engineUnreachable(where, error);
  }
}

export function engineUnreachable(where: string, error: unknown): BatonError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new BatonError('engine-unreachable', `the Docker Engine at ${where} does not answer (${reason})`, {
    hint: 'start it (`sudo dockerd &`, or `systemctl start docker`) or point DOCKER_HOST at one',
    cause: error,
  });
}

export function describeEngine(docker: Docker): string {
  const modem = docker.modem as { socketPath?: unknown; host?: string; port?: number };
  return typeof modem.socketPath === 'string' ? modem.socketPath : `${modem.host}:${modem.port}`;
}
