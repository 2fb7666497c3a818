// One bridge network per owner: every instance gets its own address on it, the host reaches
// them there directly (no published port, no userland proxy in the path), and they reach the
// host — the control plane's instance-facing listener, the node's data plane — at its gateway.
import type Docker from 'dockerode';
import { LABEL } from './container-config.ts';

export interface OwnerNetwork {
  readonly name: string;
  readonly id: string;
  /** The host's address on the network: where instances reach what runs on the host. */
  readonly gateway: string;
  readonly subnet: string;
}

export function networkName(owner: string): string {
  return `baton-${owner}`;
}

interface NetworkInspect {
  Id: string;
  Name: string;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null };
}

/** Finds the owner's network, or makes it; two control planes racing end up with the same one. */
export async function ensureOwnerNetwork(
  docker: Docker,
  owner: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<OwnerNetwork> {
  const name = networkName(owner);
  const existing = await inspect(docker, name);
  if (existing) return describe(existing, owner);
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { ...labels, [LABEL.owner]: owner },
    });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 409) throw error;
  }
  const made = await inspect(docker, name);
  if (!made) throw new Error(`network ${name} vanished as it was made`);
  return describe(made, owner);
}

async function inspect(docker: Docker, name: string): Promise<NetworkInspect | undefined> {
  try {
    return (await docker.getNetwork(name).inspect()) as NetworkInspect;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

function describe(network: NetworkInspect, owner: string): OwnerNetwork {
  // Never adopt a network of that name someone else made: its instances would mix with ours.
  if (network.Labels?.[LABEL.owner] !== owner)
    throw new Error(`network ${network.Name} exists but is not Baton's (no ${LABEL.owner}=${owner} label)`);
  const config = network.IPAM?.Config?.find((c) => c.Gateway !== undefined && c.Subnet !== undefined);
  if (!config?.Gateway || !config.Subnet) throw new Error(`network ${network.Name} has no IPv4 gateway`);
  return { name: network.Name, id: network.Id, gateway: config.Gateway, subnet: config.Subnet };
}
