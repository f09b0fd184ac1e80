/**
 * The network shim as a process (the containers runtime's shim container runs this). Reads its
 * ShimConfig as JSON from NETWORK_SHIM_CONFIG, serves one egress per node, and prints JSON lines
 * on stdout (see ShimLine): `listening` once every egress listens, one `flow` per decision, and a
 * `mark` on each SIGUSR2, so a reader knows it has every flow printed before it. Closes on SIGINT/SIGTERM.
 *
 *   NETWORK_SHIM_CONFIG='{"nodes":[...],"proxyPort":3128}' node harness/network/main.ts
 */
import { isHarnessError } from '../../common/index.ts';
import { startShim, type ShimLine } from './shim.ts';

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
  print({ service: 'network-shim', event: 'listening', egress: shim.egress });
  let marks = 0;
  process.on('SIGUSR2', () => print({ service: 'network-shim', event: 'mark', n: ++marks }));
  const stop = () => {
    void shim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  const message = isHarnessError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  process.stderr.write(`network-shim: ${message}\n`);
  process.exit(2);
}
