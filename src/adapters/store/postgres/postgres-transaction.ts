// One transaction on a client of the pool, for the Store and the span store alike: committed,
// or rolled back with the connection dropped from the pool when even the rollback fails.
import type pg from 'pg';

/** A checked-out client whose connection drops between two queries emits 'error': unheard, it would end the process. */
const ignoreDrop = (): void => {};

export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  /** What opens it: `BEGIN`, and settings local to it. */
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  // The next query on it fails with the drop, which is what the caller hears.
  client.on('error', ignoreDrop);
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackError) {
      client.release(rollbackError as Error); // the connection is broken: do not reuse it
    }
    throw error;
  } finally {
    client.off('error', ignoreDrop);
  }
}
