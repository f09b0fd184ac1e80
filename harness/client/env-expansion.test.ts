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
    expect(expandEnv(value, env)).toEqual({ value: expected, missing, blanked: [] });
  });

  // Measured on Claude Code 2.1.332 (test/differential/credentials.test.ts has them against the real client).
  it.each([
    { value: 'Bearer ${ANTHROPIC_API_KEY}', env: { ANTHROPIC_API_KEY: 'sk-ant-x' }, expected: 'Bearer ', blanked: ['ANTHROPIC_API_KEY'] },
    { value: '${npm_token:-fallback}|${NPM_TOKEN:-fallback}', env: {}, expected: '|', blanked: ['npm_token', 'NPM_TOKEN'] },
    { value: '${HTTPS_PROXY}', env: { HTTPS_PROXY: 'http://proxy:3128' }, expected: '', blanked: ['HTTPS_PROXY'] },
    { value: '${INPUT_VAULT_TOKEN}${OTEL_EXPORTER_OTLP_HEADERS}', env: { INPUT_VAULT_TOKEN: 'v', OTEL_EXPORTER_OTLP_HEADERS: 'h' }, expected: '', blanked: ['INPUT_VAULT_TOKEN', 'OTEL_EXPORTER_OTLP_HEADERS'] },
    // Through the second pass too: a value that refers to a credential does not carry it out.
    { value: '${R}', env: { R: '${AWS_SESSION_TOKEN}', AWS_SESSION_TOKEN: 'secret' }, expected: '', blanked: ['AWS_SESSION_TOKEN'] },
  ])('blanks $value (a credential of the machine) with $env', ({ value, env, expected, blanked }) => {
    expect(expandEnv(value, env)).toEqual({ value: expected, missing: [], blanked });
  });

  it.each(['PROMETHEUS_TOKEN', 'MY_SECRET', 'DB_PASSWORD', 'GRAFANA_API_KEY', 'GITHUB_TOKEN', 'HF_TOKEN', 'BUNDLE_PATH', 'GIT_CONFIG_KEY_X'])(
    'expands %s, a name that only looks like a secret',
    (name) => {
      expect(expandEnv(`\${${name}}`, { [name]: 'v' })).toEqual({ value: 'v', missing: [], blanked: [] });
    },
  );
});
