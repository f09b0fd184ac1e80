import * as z from 'zod';
import type { Clock } from '../../common/index.ts';
import type { ToolHost } from '../shared/index.ts';
import { errorResult, textResult, toolInputSchema } from '../shared/index.ts';
import { MatcherSchema } from './fixtures.ts';
import type { Alert, Fixtures, Matcher, Silence } from './fixtures.ts';

/** Tool names of the alertmanager toolset, in the order tools/list gives them. */
export const ALERTMANAGER_TOOLS = ['list_alerts', 'get_alert_groups', 'list_silences', 'create_silence'] as const;

/** Silences created through `create_silence`; lives as long as the started server, shared by all requests. */
export interface SilenceStore {
  created: Silence[];
  /** Deterministic ids (`silence-1`, ...) rather than random UUIDs, so tests can name them. */
  nextId(): string;
}

export interface AlertmanagerToolsContext {
  fixtures: Fixtures;
  silences: SilenceStore;
  clock: Clock;
}

// Alertmanager's filter syntax: name, operator, value (optionally double-quoted).
const FILTER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/;

function parseFilter(filter: string): Matcher | undefined {
  const match = FILTER.exec(filter);
  if (!match) return undefined;
  const [, name = '', op = '=', value = ''] = match;
  return { name, value, isRegex: op.includes('~'), isEqual: !op.startsWith('!') };
}

function matches(labels: Record<string, string>, matcher: Matcher): boolean {
  const actual = labels[matcher.name] ?? '';
  const hit = matcher.isRegex ? new RegExp(`^(?:${matcher.value})$`).test(actual) : actual === matcher.value;
  return hit === matcher.isEqual;
}

function parseFilters(filters: string[] | undefined): Matcher[] | string {
  const parsed: Matcher[] = [];
  for (const filter of filters ?? []) {
    const matcher = parseFilter(filter);
    if (!matcher) return `bad matcher format: ${filter}`;
    if (matcher.isRegex) {
      try {
        new RegExp(matcher.value);
      } catch {
        return `bad matcher format: ${filter}: invalid regular expression`;
      }
    }
    parsed.push(matcher);
  }
  return parsed;
}

function silenceState(startsAt: number, endsAt: number, now: number): Silence['status']['state'] {
  if (endsAt <= now) return 'expired';
  return startsAt > now ? 'pending' : 'active';
}

// Argument schemas, built once per process (with their JSON Schema): the server registers its tools
// anew for every request (stateless mode, a server per request), and they are only read, never changed.
const INPUTS = {
  list_alerts: toolInputSchema({
    filter: z.array(z.string()).optional(),
    active: z.boolean().default(true),
    silenced: z.boolean().default(true),
    inhibited: z.boolean().default(true),
  }),
  get_alert_groups: toolInputSchema({}),
  list_silences: toolInputSchema({ filter: z.array(z.string()).optional() }),
  create_silence: toolInputSchema({
    matchers: z.array(MatcherSchema).min(1),
    startsAt: z.string().optional(),
    endsAt: z.string().optional(),
    createdBy: z.string().min(1),
    comment: z.string().min(1),
  }),
};

/**
 * Registers the alertmanager toolset (Alertmanager API v2 shapes), answering from
 * `fixtures.alertmanager` plus the silences created so far.
 *
 * @example
 * registerAlertmanagerTools(server, { fixtures, silences: store, clock: systemClock });
 */
export function registerAlertmanagerTools(server: ToolHost, context: AlertmanagerToolsContext): void {
  const { alerts } = context.fixtures.alertmanager;
  const allSilences = () => [...context.fixtures.alertmanager.silences, ...context.silences.created];

  server.registerTool(
    'list_alerts',
    {
      description: 'List alerts, optionally filtered by matchers like `alertname="HighErrorRate"`.',
      inputSchema: INPUTS.list_alerts,
    },
    ({ filter, active, silenced, inhibited }) => {
      const matchers = parseFilters(filter);
      if (typeof matchers === 'string') return errorResult(matchers);
      const selected = alerts.filter((alert: Alert) => {
        const isSilenced = alert.status.silencedBy.length > 0;
        const isInhibited = alert.status.inhibitedBy.length > 0;
        if (alert.status.state === 'active' && !active) return false;
        if (isSilenced && !silenced) return false;
        if (isInhibited && !inhibited) return false;
        return matchers.every((m) => matches(alert.labels, m));
      });
      return textResult(selected);
    },
  );

  server.registerTool(
    'get_alert_groups',
    { description: 'List alert groups (grouped by alertname, as the default route does).', inputSchema: INPUTS.get_alert_groups },
    () => {
      const groups = new Map<string, Alert[]>();
      for (const alert of alerts) {
        const name = alert.labels.alertname ?? '';
        groups.set(name, [...(groups.get(name) ?? []), alert]);
      }
      return textResult(
        [...groups].map(([alertname, grouped]) => ({
          labels: { alertname },
          receiver: { name: grouped[0]?.receivers[0]?.name ?? 'default' },
          alerts: grouped,
        })),
      );
    },
  );

  server.registerTool(
    'list_silences',
    { description: 'List silences, optionally filtered by matchers on their own matchers.', inputSchema: INPUTS.list_silences },
    ({ filter }) => {
      const matchers = parseFilters(filter);
      if (typeof matchers === 'string') return errorResult(matchers);
      const selected = allSilences().filter((silence) => {
        const labels = Object.fromEntries(silence.matchers.map((m) => [m.name, m.value]));
        return matchers.every((m) => matches(labels, m));
      });
      return textResult(selected);
    },
  );

  server.registerTool(
    'create_silence',
    {
      description: 'Create a silence. startsAt defaults to now, endsAt to one hour after startsAt (RFC 3339 times).',
      inputSchema: INPUTS.create_silence,
    },
    ({ matchers, startsAt, endsAt, createdBy, comment }) => {
      const now = context.clock.now();
      const start = startsAt === undefined ? now : Date.parse(startsAt);
      if (Number.isNaN(start)) return errorResult(`invalid startsAt: ${startsAt}`);
      const end = endsAt === undefined ? start + 3_600_000 : Date.parse(endsAt);
      if (Number.isNaN(end)) return errorResult(`invalid endsAt: ${endsAt}`);
      if (end <= start) return errorResult('silence invalid: end time must not be before start time');
      const id = context.silences.nextId();
      context.silences.created.push({
        id,
        matchers,
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(end).toISOString(),
        updatedAt: new Date(now).toISOString(),
        createdBy,
        comment,
        status: { state: silenceState(start, end, now) },
      });
      return textResult({ silenceID: id });
    },
  );
}
