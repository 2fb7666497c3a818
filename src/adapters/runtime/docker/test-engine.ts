// For tests against the real engine: a connection, a label unique to the test run, and a
// cleanup that removes by label whatever the run made (containers, images, volumes, networks).
// An engine that does not answer fails the tests, saying how to start one; they never skip.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { checkEngine, connectEngine } from './docker-engine.ts';

export const TEST_LABEL = 'dev.baton.test';

const HOW_TO_START =
  'The Docker runtime tests need a Docker Engine: start one as root (`dockerd &`, or ' +
  '`systemctl start docker`; Debian: `apt-get install -y docker.io`) or point DOCKER_HOST at one.';

export interface TestEngine {
  readonly docker: Docker;
  /** Unique to this run: put it on everything the test makes, as `dev.baton.test=<runId>`. */
  readonly runId: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Removes everything labelled with this run, or with one of these owners. */
  readonly cleanup: (owners?: readonly string[]) => Promise<void>;
}

export async function openTestEngine(): Promise<TestEngine> {
  const docker = connectEngine(process.env.DOCKER_HOST);
  try {
    await checkEngine(docker);
  } catch (error) {
    throw new Error(HOW_TO_START, { cause: error });
  }
  const runId = randomBytes(6).toString('hex');
  return {
    docker,
    runId,
    labels: { [TEST_LABEL]: runId },
    cleanup: (owners = []) =>
      removeLabelled(docker, [`${TEST_LABEL}=${runId}`, ...owners.map((o) => `dev.baton.owner=${o}`)]),
  };
}

export async function removeLabelled(docker: Docker, labels: readonly string[]): Promise<void> {
  for (const label of labels) {
    const filters = JSON.stringify({ label: [label] });
    const containers = await docker.listContainers({ all: true, filters });
    await Promise.all(
      containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(gone)),
    );
    const images = await docker.listImages({ filters });
    // Tag by tag, never forced: an image of the same content may carry someone else's tags too.
    for (const image of images) {
      for (const tag of image.RepoTags ?? [])
        if (tag !== '<none>:<none>') await docker.getImage(tag).remove().catch(gone);
      await docker
        .getImage(image.Id)
        .remove()
        .catch(() => {});
    }
    const { Volumes: volumes } = await docker.listVolumes({ filters });
    await Promise.all((volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(gone)));
    const networks = await docker.listNetworks({ filters });
    await Promise.all(networks.map((n) => removeNetwork(docker, n.Id)));
  }
}

/** The engine releases a removed container's endpoint a moment after the removal returns. */
async function removeNetwork(docker: Docker, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await docker.getNetwork(id).remove();
      return;
    } catch (error) {
      const { statusCode } = error as { statusCode?: number };
      if (statusCode === 404) return;
      if (statusCode !== 403 || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function gone(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 404) throw error;
}

/** The waits a real runtime's tests need, with one deadline: polling (real time has no other way) and settling. */
export function realTimeWaits(deadlineMs: number) {
  async function waitFor(predicate: () => boolean | Promise<boolean>, description: string): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  async function settle<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no outcome within ${deadlineMs} ms`)), deadlineMs);
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
  /** The instance's answer at `path` once it answers; anything but a 200 fails. */
  async function get(instance: { id: string; address: string; port: number }, path: string): Promise<string> {
    let body: string | undefined;
    await waitFor(async () => {
      const response = await fetch(`http://${instance.address}:${instance.port}${path}`, {
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      if (response === undefined) return false;
      body = await response.text();
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body}`);
      return true;
    }, `an answer from ${instance.id} at ${instance.address}:${instance.port}${path}`);
    return body!;
  }
  return { waitFor, settle, get };
}
