// node:cluster for the multi-core variants: the primary forks `workers` copies of the same
// script, which all listen on the same port (the primary hands out connections). With one
// worker the script simply runs in this process.
import cluster from 'node:cluster';

/** Runs `serve` here (1 worker) or in `workers` forked workers; the primary only supervises. */
export function runWorkers(workers: number, serve: () => void): void {
  if (workers === 1 || cluster.isWorker) {
    serve();
    return;
  }
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  // A worker that dies on its own ends the run: the benchmark must not measure fewer workers
  // than it says.
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); stopping`);
    process.exit(1);
  });
  // The benchmark stops a target by signalling its whole process group, workers included.
  process.on('SIGTERM', () => {
    stopping = true;
    process.exit(0);
  });
}
