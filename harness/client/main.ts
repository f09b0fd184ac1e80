import { isHarnessError } from '../../common/index.ts';
import { runWorkerMain } from './worker-main.ts';

// The simulated claude-worker as a process; see runWorkerMain for the environment it reads.
try {
  await runWorkerMain(process.env);
  // The egress's keep-alive sockets would otherwise hold the process open for seconds.
  process.exit(0);
} catch (error) {
  const message = isHarnessError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`claude-worker: ${message}\n`);
  process.exit(2);
}
