// What marks a process as started by the control plane of one state folder. A digest, not
// the path: the state folder holds the admin token, and an instance is never told where.
import { createHash } from 'node:crypto';

export function ownerMark(stateDir: string): string {
  return createHash('sha256').update(`baton owner\0${stateDir}`).digest('hex').slice(0, 24);
}
