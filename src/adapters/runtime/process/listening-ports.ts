// Which TCP ports a set of processes listen on, from Linux /proc: the listening sockets of
// /proc/net/tcp and tcp6 (their inodes), matched against the processes' open descriptors.
// It lets health tell an instance that answers from one whose port is answered by another
// process — an old instance still holding a fixed port, or a stranger.
import { readdir, readFile, readlink } from 'node:fs/promises';

/** `st` of a socket in LISTEN state, in /proc/net/tcp. */
const LISTEN = '0A';

/** Listening sockets on this machine: inode → port. */
async function listeningSockets(): Promise<Map<string, number>> {
  const sockets = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'latin1').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const local = fields[1];
      if (fields[3] !== LISTEN || local === undefined || fields[9] === undefined) continue;
      sockets.set(fields[9], parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return sockets;
}

/** The ports any of `pids` listens on (sorted, without repeats). */
export async function listeningPorts(pids: readonly number[]): Promise<number[]> {
  const sockets = await listeningSockets();
  const ports = new Set<number>();
  await Promise.all(
    pids.map(async (pid) => {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      await Promise.all(
        fds.map(async (fd) => {
          const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
          const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
          const port = inode === undefined ? undefined : sockets.get(inode);
          if (port !== undefined) ports.add(port);
        }),
      );
    }),
  );
  return [...ports].sort((a, b) => a - b);
}
