import { describe, expect, it } from 'vitest';
import { expandEnv } from './env-expansion.ts';

describe('expandEnv', () => {
  it.each([
    { value: 'Bearer ${T:-orchestration-agent}', env: {}, expected: 'Bearer orchestration-agent', missing: [] },
    { value: 'Bearer ${T:-orchestration-agent}', env: { T: 'real-jwt' }, expected: 'Bearer real-jwt', missing: [] },
    // Claude Code checks `!== undefined`, not emptiness: unlike bash's `:-`, an empty VAR wins over the default.
    { value: 'Bearer ${T:-orchestration-agent}', env: { T: '' }, expected: 'Bearer ', missing: [] },
    { value: '${URL}/monitoring/v1/mcp', env: { URL: 'http://ai:8000' }, expected: 'http://ai:8000/monitoring/v1/mcp', missing: [] },
    { value: '${URL}/monitoring/v1/mcp', env: {}, expected: '${URL}/monitoring/v1/mcp', missing: ['URL'] },
    { value: '${URL}/v1', env: { URL: undefined }, expected: '${URL}/v1', missing: ['URL'] },
    { value: '$URL/v1', env: { URL: 'http://x' }, expected: '$URL/v1', missing: [] },
    { value: '${A}-${A}-${B:-b}', env: {}, expected: '${A}-${A}-b', missing: ['A'] },
    { value: '${A:-}', env: {}, expected: '', missing: [] },
    // Measured on Claude Code 2.1.332 (test/differential/direct.test.ts has them against the real client).
    { value: '${A:-x:-y}', env: {}, expected: 'x:-y', missing: [] },
    { value: '${A:-${B}}', env: {}, expected: '${B}', missing: ['B'] },
    { value: '${A:-${B}}', env: { B: 'b' }, expected: 'b', missing: [] },
    { value: '${A:-${B:-deep}}', env: {}, expected: 'deep', missing: [] },
    { value: '${R}', env: { R: '${S}', S: 's' }, expected: 's', missing: [] },
    { value: '${A:-${R}}', env: { R: '${S}', S: 's' }, expected: '${S}', missing: [] },
    { value: '${A:-${S}-tail}', env: { S: 's' }, expected: '${S-tail}', missing: ['S-tail'] },
    { value: '${:-d}', env: {}, expected: '${:-d}', missing: [] },
    { value: '${ S }', env: { S: 's' }, expected: '${ S }', missing: [' S '] },
    { value: '${A:-${B}}', env: { A: 'a' }, expected: 'a}', missing: [] },
    { value: '${}', env: {}, expected: '${}', missing: [] },
    { value: 'Bearer ${constructor}', env: {}, expected: 'Bearer ${constructor}', missing: ['constructor'] },
    { value: 'cost: $$5 ${P}', env: { P: '$1 $& $$' }, expected: 'cost: $$5 $1 $& $$', missing: [] },
    { value: 'no references', env: { A: 'a' }, expected: 'no references', missing: [] },
  ])('expands $value with $env to $expected', ({ value, env, expected, missing }) => {
    expect(expandEnv(value, env)).toEqual({ value: expected, missing });
  });
});
