// Who an instance runs as. A control plane running as root must not hand root to every
// service: the state folder (with the admin token) and the host are root's. So, as root,
// instances run as the manifest's `user` or, by default, `nobody`; `user: root` asks for
// root explicitly. Not as root, an instance runs as the control plane's user: only root
// can switch users, and such an instance shares whatever that user may read.
import { readFile } from 'node:fs/promises';
import { BatonError } from '../../../domain/errors.ts';

export const DEFAULT_INSTANCE_USER = 'nobody';

export interface UnixIdentity {
  readonly uid: number;
  readonly gid: number;
}

/** The uid/gid to spawn with, or undefined to run as this process's own user. */
export async function instanceIdentity(
  user: string | undefined,
  options: { readonly asRoot: boolean; readonly defaultUser?: string | undefined },
): Promise<UnixIdentity | undefined> {
  if (!options.asRoot) return undefined;
  const [name = '', group] = (user ?? options.defaultUser ?? DEFAULT_INSTANCE_USER).split(':');
  if (name === 'root' || name === '0') return undefined;
  const account = /^\d+$/.test(name)
    ? { uid: Number(name), gid: Number(name) }
    : await lookup('/etc/passwd', name);
  if (account === undefined) throw unknown('user', name);
  if (group === undefined) return account;
  const gid = /^\d+$/.test(group) ? Number(group) : (await lookup('/etc/group', group))?.uid;
  if (gid === undefined) throw unknown('group', group);
  return { uid: account.uid, gid };
}

/** `name:x:uid:gid:…` (passwd) or `name:x:gid:…` (group, whose gid lands in `uid`). */
async function lookup(file: string, name: string): Promise<UnixIdentity | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined)
      return { uid: Number(fields[2]), gid: Number(fields[3] ?? fields[2]) };
  }
  return undefined;
}

function unknown(what: string, name: string): BatonError {
  return new BatonError('instance-unstartable', `the ${what} \`${name}\` does not exist on this machine`, {
    hint: `create it, or set the service's \`user\` to one that exists (as root, instances run as ${DEFAULT_INSTANCE_USER} by default)`,
  });
}
