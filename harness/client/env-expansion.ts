import { blankedTowardRemote } from './credential-blanking.ts';

/** Result of expanding one string: the value as the worker would send it, and what was not found. */
export interface ExpandedValue {
  value: string;
  /** Names referenced as `${NAME}` (without default) that the environment does not define. */
  missing: string[];
  /** Names Claude Code never expands toward a remote server (credential-blanking.ts): each became ''. */
  blanked: string[];
}

/** What the worker sees as its environment; `undefined` means unset (as in `process.env`). */
export type WorkerEnv = Readonly<Record<string, string | undefined>>;

// The first `}` closes a reference, as in Claude Code: `${A:-${B}}` is the reference `${A:-${B}` and a `}`.
const REFERENCE = /\$\{([^}]+)\}/g;
/** Claude Code 2.1.332 expands a config value twice (measured: `${REF}` with REF=`${SET}` gives SET's value, a third level stays). */
const PASSES = 2;

/**
 * Expands `${VAR}` and `${VAR:-default}` the way Claude Code 2.1.332 expands `.mcp.json` `url`
 * and `headers` values (measured by the differential test, test/differential), which is not quite
 * the shell's way:
 * - `$VAR` (no braces) and the shell's other forms (`${VAR-x}`, `${VAR:+x}`) are left as written;
 * - an unset `${VAR}` stays as written and is listed in `missing`; so does `${:-x}` (no name);
 * - `${VAR:-default}` uses the default only when VAR is unset: a VAR set to the empty string
 *   expands to the empty string (bash would use the default);
 * - the default is everything after the first `:-` (`${A:-x:-y}` gives `x:-y`) up to the first `}`;
 * - the result is expanded once more: a default or a value that is itself a reference expands
 *   (`${A:-${B:-b}}` gives `b`), one level deep only;
 * - its own credentials and the machine's other secrets (`${ANTHROPIC_API_KEY}`, `${NPM_TOKEN}`,
 *   `${HTTPS_PROXY}`, ...: credential-blanking.ts) become '', set or not, default ignored; a name
 *   that merely looks secret (`${PROMETHEUS_TOKEN}`) expands.
 *
 * @example
 * expandEnv('Bearer ${PROMETHEUS_TOKEN:-orchestration-agent}', {});
 * // { value: 'Bearer orchestration-agent', missing: [] }
 */
export function expandEnv(value: string, env: WorkerEnv): ExpandedValue {
  let current = value;
  let missing: string[] = [];
  const blanked = new Set<string>();
  for (let pass = 0; pass < PASSES; pass++) {
    const expanded = expandOnce(current, env);
    current = expanded.value;
    missing = expanded.missing;
    expanded.blanked.forEach((name) => blanked.add(name));
  }
  return { value: current, missing, blanked: [...blanked] };
}

function expandOnce(value: string, env: WorkerEnv): ExpandedValue {
  const missing: string[] = [];
  const blanked: string[] = [];
  const expanded = value.replace(REFERENCE, (whole, content: string) => {
    const separator = content.indexOf(':-');
    const name = separator === -1 ? content : content.slice(0, separator);
    const fallback = separator === -1 ? undefined : content.slice(separator + 2);
    if (name === '') return whole;
    if (blankedTowardRemote(name)) {
      blanked.push(name);
      return '';
    }
    const set = Object.hasOwn(env, name) ? env[name] : undefined;
    if (set !== undefined) return set;
    if (fallback !== undefined) return fallback;
    if (!missing.includes(name)) missing.push(name);
    return whole;
  });
  return { value: expanded, missing, blanked };
}
