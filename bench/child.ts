// One measurement in a fresh process: `node bench/child.ts <part> '<json args>'`. Prints one result
// line (RESULT_MARK + JSON) with the part's figures and the process's own peak RSS and CPU.
import { measureBlockedFlow, measureClients, measureContainers, measureContainersRun, measureHandshakes, measureScenarioRun, processFigures, watchHeap } from './index.ts';
import { RESULT_MARK } from './measure.ts';

const parts: Record<string, (args: never) => Promise<object>> = {
  handshake: measureHandshakes,
  scenarios: measureScenarioRun,
  blocked: measureBlockedFlow,
  containers: measureContainers,
  'containers-run': measureContainersRun,
  clients: measureClients,
};

const [part = '', json = '{}'] = process.argv.slice(2);
const measure = parts[part];
if (!measure) {
  process.stderr.write(`unknown bench part "${part}"; one of ${Object.keys(parts).join(', ')}\n`);
  process.exit(2);
}
const heap = watchHeap();
const figures = await measure(JSON.parse(json) as never);
process.stdout.write(`${RESULT_MARK}${JSON.stringify({ ...figures, ...processFigures(heap()) })}\n`);
