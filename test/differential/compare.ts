import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// The differential test's comparison: per case and server, the simulated worker's view beside
// Claude Code's. Any difference must be a baseline entry (with its reason), and every baseline
// entry must still happen: an entry that no longer differs fails too, so the file stays true.

/** What is compared per server: status, tools (as the init line lists them) and, where a case says, a header the server got. */
export interface Observed {
  status: string;
  tools: string[];
  sent?: string | undefined;
}

export type Field = 'status' | 'tools' | 'sent';

export interface Difference {
  case: string;
  server: string;
  field: Field;
  simulated: unknown;
  claudeCode: unknown;
}

const BaselineEntrySchema = z.strictObject({
  case: z.string(),
  server: z.string(),
  field: z.enum(['status', 'tools', 'sent']),
  simulated: z.unknown(),
  /** What Claude Code showed; a list when it shows any of several (a race inside Claude Code). */
  claudeCode: z.unknown(),
  /** Why the two differ; required. */
  reason: z.string().min(20, 'say why, in a sentence'),
});
export type BaselineEntry = z.infer<typeof BaselineEntrySchema>;

const BaselineSchema = z.strictObject({
  /** The Claude Code version the entries were measured with. */
  claudeCodeVersion: z.string(),
  entries: z.array(BaselineEntrySchema),
});
export type Baseline = z.infer<typeof BaselineSchema>;

export const BASELINE_FILE = path.join(import.meta.dirname, 'baseline.json');

export function loadBaseline(): Baseline {
  return BaselineSchema.parse(JSON.parse(readFileSync(BASELINE_FILE, 'utf8')));
}

/** Every field where the two clients saw a server differently. */
export function differences(caseId: string, simulated: Record<string, Observed>, claudeCode: Record<string, Observed>): Difference[] {
  const found: Difference[] = [];
  for (const server of new Set([...Object.keys(simulated), ...Object.keys(claudeCode)])) {
    const a = simulated[server];
    const b = claudeCode[server];
    for (const field of ['status', 'tools', 'sent'] as const) {
      const left = a?.[field] === undefined ? undefined : field === 'tools' ? [...(a[field] as string[])].sort() : a[field];
      const right = b?.[field] === undefined ? undefined : field === 'tools' ? [...(b[field] as string[])].sort() : b[field];
      if (JSON.stringify(left) !== JSON.stringify(right)) found.push({ case: caseId, server, field, simulated: left ?? null, claudeCode: right ?? null });
    }
  }
  return found;
}

function matches(entry: BaselineEntry, difference: Difference): boolean {
  if (entry.case !== difference.case || entry.server !== difference.server || entry.field !== difference.field) return false;
  if (JSON.stringify(entry.simulated) !== JSON.stringify(difference.simulated)) return false;
  const allowed = Array.isArray(entry.claudeCode) && difference.field !== 'tools' ? entry.claudeCode : [entry.claudeCode];
  return allowed.some((value) => JSON.stringify(value) === JSON.stringify(difference.claudeCode));
}

/**
 * The differences of one case the baseline does not explain, and the baseline entries of that case
 * that did not happen. A racy entry (a list of Claude Code values) may also not happen when
 * Claude Code's value this time equals the simulated one.
 */
export function unexplained(caseId: string, found: Difference[], baseline: Baseline): { unexplained: Difference[]; stale: BaselineEntry[] } {
  const entries = baseline.entries.filter((entry) => entry.case === caseId);
  return {
    unexplained: found.filter((difference) => !entries.some((entry) => matches(entry, difference))),
    stale: entries.filter((entry) => {
      if (found.some((difference) => matches(entry, difference))) return false;
      return !(Array.isArray(entry.claudeCode) && entry.field !== 'tools' && entry.claudeCode.some((value) => JSON.stringify(value) === JSON.stringify(entry.simulated)));
    }),
  };
}
