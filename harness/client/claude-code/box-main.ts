// Runs inside the worker's container (the containers runtime's box), as Claude Code's launcher:
// the same runClaudeUntilInit as on the host, on the container's own network (the worker's, whose
// one way out is its egress). Prints one JSON line, {"type":"harness_claude_run","run":...} or
// {"type":"harness_claude_error","code","message"}, for claude-box.ts on the host.
//   node harness/client/claude-code/box-main.ts <input.json>
import { readFileSync } from 'node:fs';
import { isHarnessError } from '../../../common/index.ts';
import { runClaudeUntilInit, type ClaudeRunInput } from './claude-process.ts';

const file = process.argv[2];
try {
  if (!file) throw new Error('usage: box-main.ts <input.json>');
  const input = JSON.parse(readFileSync(file, 'utf8')) as ClaudeRunInput;
  input.env = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...input.env };
  const run = await runClaudeUntilInit({ ...input, isolate: undefined });
  process.stdout.write(`${JSON.stringify({ type: 'harness_claude_run', run })}\n`);
  process.exit(0);
} catch (error) {
  const code = isHarnessError(error) ? error.code : 'ERR_CLAUDE_CONTAINER';
  process.stdout.write(`${JSON.stringify({ type: 'harness_claude_error', code, message: error instanceof Error ? error.message : String(error) })}\n`);
  process.exit(2);
}
