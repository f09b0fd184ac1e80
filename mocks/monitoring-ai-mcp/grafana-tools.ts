import * as z from 'zod';
import { errorResult, textResult, toolInputSchema } from '../shared/index.ts';
import type { ToolHost } from '../shared/index.ts';
import type { Fixtures } from './fixtures.ts';

/** Tool names of the grafana toolset, in the order tools/list gives them. */
export const GRAFANA_TOOLS = ['search_dashboards', 'get_dashboard_by_uid', 'list_datasources', 'query_prometheus'] as const;

// Argument schemas, built once per process (with their JSON Schema): the server registers its tools
// anew for every request (stateless mode, a server per request), and they are only read, never changed.
const INPUTS = {
  search_dashboards: toolInputSchema({ query: z.string().optional(), tag: z.string().optional() }),
  get_dashboard_by_uid: toolInputSchema({ uid: z.string() }),
  list_datasources: toolInputSchema({ type: z.string().optional() }),
  query_prometheus: toolInputSchema({ datasourceUid: z.string(), expr: z.string().min(1) }),
};

/**
 * Registers the grafana toolset (names and arguments after grafana/mcp-grafana), answering from
 * `fixtures.grafana`.
 *
 * @example
 * registerGrafanaTools(server, fixtures);
 */
export function registerGrafanaTools(server: ToolHost, fixtures: Fixtures): void {
  const { dashboards, datasources, queries } = fixtures.grafana;

  server.registerTool(
    'search_dashboards',
    {
      description: 'Search for Grafana dashboards by a query string (title substring) and/or tag.',
      inputSchema: INPUTS.search_dashboards,
    },
    ({ query, tag }) => {
      const needle = query?.toLowerCase() ?? '';
      const hits = dashboards
        .filter((d) => d.title.toLowerCase().includes(needle) && (tag === undefined || d.tags.includes(tag)))
        .map((d) => ({ uid: d.uid, title: d.title, tags: d.tags, folderTitle: d.folderTitle, type: 'dash-db', url: `/d/${d.uid}` }));
      return textResult(hits);
    },
  );

  server.registerTool(
    'get_dashboard_by_uid',
    { description: 'Retrieves the complete dashboard, including panels, by its UID.', inputSchema: INPUTS.get_dashboard_by_uid },
    ({ uid }) => {
      const dashboard = dashboards.find((d) => d.uid === uid);
      if (!dashboard) return errorResult(`get dashboard by uid ${uid}: Dashboard not found`);
      const { folderTitle, ...rest } = dashboard;
      return textResult({ dashboard: rest, meta: { folderTitle, url: `/d/${uid}`, slug: uid } });
    },
  );

  server.registerTool(
    'list_datasources',
    { description: 'List available Grafana datasources, optionally of one type.', inputSchema: INPUTS.list_datasources },
    ({ type }) => textResult(datasources.filter((d) => type === undefined || d.type === type)),
  );

  server.registerTool(
    'query_prometheus',
    {
      description: 'Query Prometheus through a Grafana datasource (instant query).',
      inputSchema: INPUTS.query_prometheus,
    },
    ({ datasourceUid, expr }) => {
      const datasource = datasources.find((d) => d.uid === datasourceUid);
      if (!datasource) return errorResult(`datasource ${datasourceUid} not found`);
      if (datasource.type !== 'prometheus') return errorResult(`datasource ${datasourceUid} is of type ${datasource.type}, not prometheus`);
      const canned = queries.find((q) => q.datasourceUid === datasourceUid && q.expr === expr);
      return textResult(canned?.result ?? { resultType: 'vector', result: [] });
    },
  );
}
