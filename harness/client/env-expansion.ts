/** Result of expanding one string: the value as the worker would send it, and what was not found. */
export interface ExpandedValue {
  value: string;
  /** Names referenced as `${NAME}` (without default) that the environment does not define. */
  missing: string[];
}

/** What the worker sees as its environment; `undefined` means unset (as in `process.env`). */
export type WorkerEnv = Readonly<Record<string, string | undefined>>;

// Same pattern as Claude Code's envExpansion.ts: the first `}` closes the reference, so a nested
// `${A:-${B}}` is not supported there either.
const REFERENCE = /\$\{([^}]+)\}/g;

/**
 * Expands `${VAR}` and `${VAR:-default}` the way Claude Code expands `.mcp.json` `url` and
 * `headers` values, which is not quite the shell's way:
 * - `$VAR` (no braces) is left as written;
 * - an unset `${VAR}` stays as written and is listed in `missing`;
 * - `${VAR:-default}` uses the default only when VAR is unset: a VAR set to the empty string
 *   expands to the empty string (bash would use the default);
 * - the default ends at a second `:-` (`${A:-x:-y}` gives `x`), as Claude Code splits with
 *   `split(':-', 2)`.
 *
 * @example
 * expandEnv('Bearer ${PROMETHEUS_TOKEN:-orchestration-agent}', {});
 * // { value: 'Bearer orchestration-agent', missing: [] }
 */
export function expandEnv(value: string, env: WorkerEnv): ExpandedValue {
  const missing: string[] = [];
  const expanded = value.replace(REFERENCE, (whole, content: string) => {
    const [name = '', fallback] = content.split(':-', 2);
    const set = Object.hasOwn(env, name) ? env[name] : undefined;
    if (set !== undefined) return set;
    if (fallback !== undefined) return fallback;
    if (!missing.includes(name)) missing.push(name);
    return whole;
  });
  return { value: expanded, missing };
}
