/**
 * The network shim as a process (the containers runtime's shim container runs this). Reads its
 * ShimConfig as JSON from NETWORK_SHIM_CONFIG, serves one egress per node, and prints JSON lines
 * on stdout (see ShimLine): `listening` once every egress listens, one `flow` per decision, and a
 * `mark` on each SIGUSR2, so a reader knows it has every flow printed before it. Closes on SIGINT/SIGTERM.
 *
 * Live changes (the control channel): on SIGHUP it reads a ShimUpdate as JSON from the file
 * NETWORK_SHIM_UPDATE_FILE (default /tmp/network-shim-update.json), applies it and prints `updated`
 * (or `update-failed` with why) with the update's `n`. The runtime writes that file into the
 * container through Docker's archive API and sends the signal through Docker's kill API: no port,
 * no network and no process of its own, and only whoever controls the Docker engine can do it.
 *
 *   NETWORK_SHIM_CONFIG='{"nodes":[...],"proxyPort":3128}' node harness/network/main.ts
 */
import { readFileSync } from 'node:fs';
import { isHarnessError } from '../../common/index.ts';
import { SHIM_UPDATE_FILE, startShim, type ShimLine } from './shim.ts';

const print = (line: ShimLine) => process.stdout.write(`${JSON.stringify(line)}\n`);

try {
  const raw = process.env.NETWORK_SHIM_CONFIG;
  if (!raw) throw new Error('NETWORK_SHIM_CONFIG must hold the shim config as JSON');
  let config: unknown;
  try {
    config = JSON.parse(raw);
  } catch (error) {
    throw new Error(`NETWORK_SHIM_CONFIG is not JSON: ${(error as Error).message}`);
  }
  const shim = await startShim(config);
  shim.network.onEvent((flow) => print({ service: 'network-shim', event: 'flow', flow }));
  let marks = 0;
  process.on('SIGUSR2', () => print({ service: 'network-shim', event: 'mark', n: ++marks }));
  const updateFile = process.env.NETWORK_SHIM_UPDATE_FILE || SHIM_UPDATE_FILE;
  process.on('SIGHUP', () => {
    let n = -1;
    try {
      const update: unknown = JSON.parse(readFileSync(updateFile, 'utf8'));
      if (update && typeof update === 'object' && typeof (update as { n?: unknown }).n === 'number') n = (update as { n: number }).n;
      print({ service: 'network-shim', event: 'updated', n: shim.update(update) });
    } catch (error) {
      const message = isHarnessError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      print({ service: 'network-shim', event: 'update-failed', n, error: message });
    }
  });
  const stop = () => {
    void shim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Only now: a signal sent as soon as this line is read must find its handler (SIGHUP's default ends the process).
  print({ service: 'network-shim', event: 'listening', egress: shim.egress });
} catch (error) {
  const message = isHarnessError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`network-shim: ${message}\n`);
  process.exit(2);
}
