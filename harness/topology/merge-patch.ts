/**
 * RFC 7386 JSON Merge Patch: objects merge key by key, `null` deletes a key, anything else
 * (lists included) replaces. How a scenario step changes its base topology.
 *
 * @example
 * mergePatch({ env: { A: '1', B: '2' } }, { env: { B: null } }) // { env: { A: '1' } }
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
