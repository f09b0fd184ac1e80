import { z } from 'zod';
import { TopologyError } from './errors.ts';
import { locate, type Origins } from './source.ts';
import { isPlainObject, mergePatch } from './merge-patch.ts';

const NameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _');

/** An axis is either named patches `{value: patch}`, or `{values: [...], patch}` with `${axis}` in the patch. */
const AxisSchema = z.union([
  z.strictObject({ values: z.array(NameSchema).min(1), patch: z.record(z.string(), z.unknown()) }),
  z.record(NameSchema, z.union([z.record(z.string(), z.unknown()), z.null()])),
]);

const MatrixSchema = z.strictObject({
  axes: z.record(NameSchema, AxisSchema),
  /**
   * Rules in order; for each server the first rule that matches and names it gives its expectation.
   * A server any rule names must get one in every member (see expandMatrix).
   */
  expect: z.array(z.record(z.string(), z.unknown())).min(1),
});

export interface MatrixMember {
  /** `axis=value/axis=value`, or '' for a file without a matrix. */
  suffix: string;
  data: Record<string, unknown>;
  origins: Origins;
}

/**
 * Expands a `matrix:` block into one document per combination of its axes, each with the
 * expectations its rules give. A document without a matrix is returned as it is.
 */
export function expandMatrix(data: Record<string, unknown>, origins: Origins): MatrixMember[] {
  const { matrix, ...rest } = data;
  if (matrix === undefined) return [{ suffix: '', data, origins }];
  const file = origins[0]?.source.file ?? '';
  const parsed = MatrixSchema.safeParse(matrix);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['matrix', ...issue.path.filter((key): key is string | number => typeof key !== 'symbol')];
    throw new TopologyError('ERR_SCENARIO_INVALID', issue.message, locate(origins, field, file));
  }
  if (rest.expect !== undefined) {
    throw new TopologyError('ERR_SCENARIO_INVALID', 'a matrix file gives its expectations in matrix.expect', locate(origins, ['expect'], file));
  }
  const axes = Object.entries(parsed.data.axes).map(([axis, spec]) => ({
    axis,
    values: 'values' in spec && Array.isArray(spec.values)
      ? spec.values.map((value) => ({ value, patch: substitute(spec.patch, axis, value as string), origin: ['matrix', 'axes', axis, 'patch'] }))
      : Object.entries(spec).map(([value, patch]) => ({ value, patch: patch ?? {}, origin: ['matrix', 'axes', axis, value] })),
  }));
  const rules = parsed.data.expect.map((rule, index) => checkRule(rule, index, axes, origins, file));
  let members: { choice: Record<string, string>; data: unknown; origins: Origins }[] = [{ choice: {}, data: rest, origins }];
  for (const { axis, values } of axes) {
    members = members.flatMap((member) =>
      values.map(({ value, patch, origin }) => ({
        choice: { ...member.choice, [axis]: value },
        data: mergePatch(member.data, patch),
        origins: [...origins.slice(0, 1).map((o) => ({ source: o.source, prefix: origin })), ...member.origins],
      })),
    );
  }
  // A server the family checks must be checked in every member: a combination no rule covers would pass whatever it did.
  const named = [...new Set(rules.flatMap((rule) => Object.keys(rule.servers)))];
  return members.map(({ choice, data: doc, origins: memberOrigins }) => {
    const suffix = Object.entries(choice).map(([axis, value]) => `${axis}=${value}`).join('/');
    const expect = expectationsFor(choice, rules);
    const missing = named.filter((server) => !(server in expect));
    if (missing.length > 0) {
      throw new TopologyError(
        'ERR_SCENARIO_INVALID',
        `no rule gives ${missing.join(', ')} an expectation for ${suffix}: end the rules with one without \`when\` for ${missing.length > 1 ? 'them' : 'it'}`,
        locate(origins, ['matrix', 'expect'], file),
      );
    }
    return { suffix, data: { ...(doc as Record<string, unknown>), expect }, origins: memberOrigins };
  });
}

interface Rule {
  when: Record<string, string[]>;
  servers: Record<string, unknown>;
}

function checkRule(
  rule: Record<string, unknown>,
  index: number,
  axes: { axis: string; values: { value: string }[] }[],
  origins: Origins,
  file: string,
): Rule {
  const { when = {}, ...servers } = rule;
  if (Object.keys(servers).length === 0) {
    throw new TopologyError('ERR_SCENARIO_INVALID', 'a rule must give at least one server an expectation', locate(origins, ['matrix', 'expect', index], file));
  }
  if (!isPlainObject(when)) {
    throw new TopologyError('ERR_SCENARIO_INVALID', 'when must map axes to a value or a list of values', locate(origins, ['matrix', 'expect', index, 'when'], file));
  }
  const conditions: Record<string, string[]> = {};
  for (const [axis, wanted] of Object.entries(when)) {
    const known = axes.find((candidate) => candidate.axis === axis);
    const at = locate(origins, ['matrix', 'expect', index, 'when', axis], file);
    if (!known) throw new TopologyError('ERR_SCENARIO_INVALID', `no axis named ${axis} (axes: ${axes.map((a) => a.axis).join(', ')})`, at);
    const values = (Array.isArray(wanted) ? wanted : [wanted]).map(String);
    const unknown = values.filter((value) => !known.values.some((candidate) => candidate.value === value));
    if (unknown.length > 0) throw new TopologyError('ERR_SCENARIO_INVALID', `axis ${axis} has no value ${unknown.join(', ')}`, at);
    conditions[axis] = values;
  }
  return { when: conditions, servers };
}

function expectationsFor(choice: Record<string, string>, rules: Rule[]): Record<string, unknown> {
  const expect: Record<string, unknown> = {};
  for (const rule of rules) {
    const matches = Object.entries(rule.when).every(([axis, values]) => values.includes(choice[axis] ?? ''));
    if (!matches) continue;
    for (const [server, expectation] of Object.entries(rule.servers)) {
      if (!(server in expect)) expect[server] = expectation;
    }
  }
  return expect;
}

function substitute(value: unknown, axis: string, replacement: string): unknown {
  if (typeof value === 'string') return value.replaceAll(`\${${axis}}`, replacement);
  if (Array.isArray(value)) return value.map((item) => substitute(item, axis, replacement));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, axis, replacement)]));
  }
  return value;
}
