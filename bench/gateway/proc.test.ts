import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import {
  allProcesses,
  descendants,
  parseMachineStat,
  parseProcStat,
  snapshotTrees,
  treeSeconds,
} from './proc.ts';

describe('parseProcStat', () => {
  it('reads a command name holding spaces and parentheses', () => {
    const line = '4242 (node (worker) 1) S 4200 4242 4242 0 -1 4194560 1 2 3 4 150 25 7 3 20 0 11 0 1 2 3';
    assert.deepEqual(parseProcStat(line), {
      pid: 4242,
      state: 'S',
      ppid: 4200,
      pgrp: 4242,
      cpuTicks: 175,
      childrenCpuTicks: 10,
    });
  });
});

describe('parseMachineStat', () => {
  it('counts idle and iowait as not busy', () => {
    assert.deepEqual(parseMachineStat('cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 1 2 3\n'), {
      busy: 161,
      total: 1181,
    });
  });
});

describe('process trees', () => {
  it('finds a grandchild and charges the tree the CPU it burns', async () => {
    // A shell (`; :` keeps it from exec-ing) whose child spins until killed.
    const shell = spawn('sh', ['-c', `"${process.execPath}" -e "for (;;);"; :`], {
      stdio: 'ignore',
      detached: true,
    });
    try {
      const deadline = performance.now() + 10_000;
      let tree: number[] = [];
      while (tree.length < 2) {
        assert.ok(performance.now() < deadline, 'the spinner did not start');
        tree = descendants(await allProcesses(), shell.pid!).map((stat) => stat.pid);
      }
      assert.equal(tree[0], shell.pid);
      const before = await snapshotTrees({ spin: shell.pid! });
      let seconds = 0;
      while (seconds === 0) {
        assert.ok(performance.now() < deadline, 'no CPU charged to the tree');
        seconds = treeSeconds(before, await snapshotTrees({ spin: shell.pid! })).spin!;
      }
      assert.ok(seconds > 0);
    } finally {
      process.kill(-shell.pid!, 'SIGKILL');
      await once(shell, 'exit');
    }
  });
});
