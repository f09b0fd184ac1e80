import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { runScenario, type RunOptions, type ScenarioResult } from '../runner/index.ts';
import { loadScenarioFile, type Scenario } from '../topology/index.ts';
import { formatProvenance, provenance, scenarioDocument, type Provenance } from './document.ts';
import { IncidentError } from './errors.ts';
import { readUserInputs, type UserFlags } from './inputs.ts';
import { parseReported, type ReportedServer } from './reported.ts';

export interface NewIncidentOptions extends Pick<RunOptions, 'runtime' | 'client' | 'claudeBin'> {
  slug: string;
  /** `YYYY-MM-DD`, the folder's prefix. */
  date: string;
  /** The scenarios folder: the step goes to `<root>/incidents/<date>-<slug>/0-as-reported.yaml`. */
  root: string;
  /** The base topology the user's material patches. */
  topology: string;
  flags: UserFlags;
  /** The pasted `mcp_servers` log line, or `@file` holding it. */
  reported: string;
  /** Overwrite a step 0 that exists. */
  force?: boolean;
}

export interface NewIncident {
  file: string;
  scenario: Scenario;
  result: ScenarioResult;
  provenance: Provenance[];
  reported: ReportedServer[];
  /** True when every reported server has the reported status in the harness's run. */
  reproduces: boolean;
  /** One line per server whose status differs from the report, with the harness's reason. */
  differences: string[];
}

/**
 * `harness new incident <slug>`: writes step 0 of a new incident from the user's material (their
 * files are copied into the incident's `files/`), expecting what the pasted log line reports, runs
 * it, and says whether the harness reproduces the report. Every input is checked before anything
 * is written or started.
 *
 * @example
 * const made = await newIncident({ slug: 'prometheus-mcp', date: '2025-10-01', root: 'scenarios', topology, flags, reported, runtime });
 * made.reproduces; // true
 */
export async function newIncident(options: NewIncidentOptions): Promise<NewIncident> {
  const reportedText = options.reported.startsWith('@') ? await readReportedFile(options.reported.slice(1)) : options.reported;
  const reported = parseReported(reportedText);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(options.slug)) {
    throw new IncidentError('ERR_INPUT_FLAG', `incident slug "${options.slug}": lower-case letters, digits and dashes`);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.date)) throw new IncidentError('ERR_INPUT_FLAG', `--date ${options.date}: expected YYYY-MM-DD`);
  const [base] = (await loadScenarioFile(options.topology, { root: options.root })) as [Scenario];
  const inputs = await readUserInputs(options.flags, base);
  const dir = path.resolve(options.root, 'incidents', `${options.date}-${options.slug}`);
  const file = path.join(dir, '0-as-reported.yaml');
  if (!options.force && (await stat(file).then(() => true, () => false))) {
    throw new IncidentError('ERR_INCIDENT_EXISTS', `${file} exists (--force overwrites it)`);
  }

  await mkdir(path.join(dir, 'files'), { recursive: true });
  const copied = new Map<string, string>();
  for (const user of [inputs.config?.file, inputs.settings?.file]) {
    if (!user) continue;
    const name = path.join('files', path.basename(user));
    await copyFile(user, path.join(dir, name));
    copied.set(user, name);
  }
  const parts = provenance(base, inputs);
  const document = {
    description: `As reported: ${reported.map((server) => `${server.name} ${server.status}`).join(', ')}.`,
    ...scenarioDocument(base, inputs, { extends: path.relative(dir, path.resolve(options.topology)), file: (user) => copied.get(user)! }),
    expect: Object.fromEntries(reported.map((server) => [server.name, server.status])),
  };
  const header = [
    `# Step 0 of ${options.date}-${options.slug}, written by harness new incident from:`,
    ...formatProvenance(parts).trimEnd().split('\n').slice(1).map((line) => `# ${line.trim().replace(/\s{2,}/g, '  ')}`),
    `# The report: ${reportedText.trim().replace(/\s+/g, ' ')}`,
  ];
  await writeFile(file, `${header.join('\n')}\n${stringify(document)}`);

  const [scenario] = (await loadScenarioFile(file, { root: options.root })) as [Scenario];
  const result = await runScenario(scenario!, options);
  const differences = result.error
    ? [`could not run: ${result.error.code}: ${result.error.message}`]
    : result.servers.filter((server) => !server.ok).map((server) => {
        const why = server.reason ? `: ${server.reason.kind}: ${server.reason.detail}` : server.status === 'connected' ? ': it connected' : '';
        const hop = server.reason?.hop ? ` (hop ${server.reason.hop.from} -> ${server.reason.hop.to}:${server.reason.hop.port})` : '';
        const reportedStatus = reported.find((entry) => entry.name === server.name)?.status;
        return `${server.name}: reported ${reportedStatus}, the harness sees ${server.status}${why}${hop}${server.mismatches.length ? ` [${server.mismatches.join('; ')}]` : ''}`;
      });
  const unreported = result.servers.filter((server) => !reported.some((entry) => entry.name === server.name)).map((server) => server.name);
  if (unreported.length > 0) differences.push(`not in the report, but in the config: ${unreported.join(', ')}`);
  return { file, scenario: scenario!, result, provenance: parts, reported, reproduces: differences.length === 0, differences };
}

async function readReportedFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new IncidentError('ERR_INPUT_READ', `--reported @${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/**
 * What `harness new incident` prints.
 *
 * @example
 * process.stdout.write(formatNewIncident(made));
 */
export function formatNewIncident(made: NewIncident): string {
  const lines = [`wrote ${made.file}`, formatProvenance(made.provenance).trimEnd(), ''];
  if (made.reproduces) {
    lines.push(`the harness REPRODUCES the report: ${made.result.servers.map((server) => `${server.name} ${server.status}${server.reason ? ` (${server.reason.kind})` : ''}`).join(', ')}`);
  } else {
    lines.push('the harness does NOT reproduce the report:', ...made.differences.map((line) => `  ${line}`));
    lines.push(`edit ${path.basename(made.file)} (harness up applies each saved edit live) until it does, or check the material you gave`);
  }
  return `${lines.join('\n')}\n`;
}
