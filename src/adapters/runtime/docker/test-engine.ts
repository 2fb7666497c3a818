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
