import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { MonitoringAiMcpError } from './errors.ts';

const LabelsSchema = z.record(z.string(), z.string());

export const DatasourceSchema = z.object({
  uid: z.string(),
  name: z.string(),
  type: z.string(),
  url: z.string(),
  isDefault: z.boolean(),
});
export type Datasource = z.infer<typeof DatasourceSchema>;

export const DashboardSchema = z.object({
  uid: z.string(),
  title: z.string(),
  tags: z.array(z.string()),
  folderTitle: z.string(),
  panels: z.array(
    z.object({ id: z.number().int(), title: z.string(), type: z.string(), datasourceUid: z.string(), expr: z.string() }),
  ),
});
export type Dashboard = z.infer<typeof DashboardSchema>;

/** A canned answer of `query_prometheus` for one (datasource, expression) pair: the Prometheus `data` object. */
export const CannedQuerySchema = z.object({
  datasourceUid: z.string(),
  expr: z.string(),
  result: z.object({ resultType: z.string(), result: z.array(z.unknown()) }),
});
export type CannedQuery = z.infer<typeof CannedQuerySchema>;

/** An alert as Alertmanager's API v2 `GET /api/v2/alerts` returns it. */
export const AlertSchema = z.object({
  fingerprint: z.string(),
  labels: LabelsSchema,
  annotations: LabelsSchema,
  startsAt: z.string(),
  endsAt: z.string(),
  status: z.object({
    state: z.enum(['active', 'suppressed', 'unprocessed']),
    silencedBy: z.array(z.string()),
    inhibitedBy: z.array(z.string()),
  }),
  receivers: z.array(z.object({ name: z.string() })),
});
export type Alert = z.infer<typeof AlertSchema>;

export const MatcherSchema = z.object({
  name: z.string().min(1),
  value: z.string(),
  isRegex: z.boolean().default(false),
  isEqual: z.boolean().default(true),
});
export type Matcher = z.infer<typeof MatcherSchema>;

/** A silence as Alertmanager's API v2 `GET /api/v2/silences` returns it. */
export const SilenceSchema = z.object({
  id: z.string(),
  matchers: z.array(MatcherSchema).min(1),
  startsAt: z.string(),
  endsAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  status: z.object({ state: z.enum(['active', 'pending', 'expired']) }),
});
export type Silence = z.infer<typeof SilenceSchema>;

/** What the grafana and alertmanager toolsets answer from. */
export const FixturesSchema = z.object({
  grafana: z.object({
    datasources: z.array(DatasourceSchema),
    dashboards: z.array(DashboardSchema),
    queries: z.array(CannedQuerySchema),
  }),
  alertmanager: z.object({
    alerts: z.array(AlertSchema),
    silences: z.array(SilenceSchema),
  }),
});
export type Fixtures = z.infer<typeof FixturesSchema>;

/** The fixtures file shipped next to this module. */
export const DEFAULT_FIXTURES_FILE = new URL('./fixtures.json', import.meta.url);

/**
 * Reads and validates a fixtures file.
 *
 * @example
 * const fixtures = await loadFixtures(DEFAULT_FIXTURES_FILE);
 */
export async function loadFixtures(file: string | URL = DEFAULT_FIXTURES_FILE): Promise<Fixtures> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MonitoringAiMcpError('ERR_MONITORING_AI_MCP_FIXTURES', `cannot read fixtures ${String(file)}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MonitoringAiMcpError('ERR_MONITORING_AI_MCP_FIXTURES', `fixtures ${String(file)} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = FixturesSchema.safeParse(json);
  if (!parsed.success) {
    throw new MonitoringAiMcpError('ERR_MONITORING_AI_MCP_FIXTURES', `fixtures ${String(file)} is invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
