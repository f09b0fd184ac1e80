import { parser } from '@prometheus-io/lezer-promql';
import { PrometheusError } from './errors.ts';

// PromQL is parsed by the Prometheus project's own grammar (@prometheus-io/lezer-promql, what the
// Prometheus web UI uses). This module turns its syntax tree into the little AST the mock evaluates:
// selectors, literals, unary +/-, scalar(), vector(), time(). Every other valid expression becomes
// `unsupported` (422 `execution`), never a misleading `bad_data`. A tree with an error node is
// Prometheus's 400 `bad_data` at that node's line:column, worded close to Prometheus.

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Anchored, compiled once for `=~` / `!~`. */
  regex?: RegExp;
}

export type Expr =
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'selector'; matchers: LabelMatcher[]; pos: number }
  | { kind: 'call'; func: string; args: Expr[]; pos: number }
  | { kind: 'paren'; expr: Expr; pos: number }
  | { kind: 'unary'; op: '+' | '-'; expr: Expr; pos: number }
  | { kind: 'unsupported'; what: string; pos: number };

export type ValueType = 'scalar' | 'instant vector' | 'range vector' | 'string';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Matches a label value the way Prometheus's labels.Matcher does (absent label = ""). */
export function matchesLabel(matcher: LabelMatcher, value: string | undefined): boolean {
  const v = value ?? '';
  switch (matcher.op) {
    case '=':
      return v === matcher.value;
    case '!=':
      return v !== matcher.value;
    case '=~':
      return matcher.regex!.test(v);
    case '!~':
      return !matcher.regex!.test(v);
  }
}

/**
 * Parses a PromQL expression; throws a PrometheusError `ERR_PROMETHEUS_PARSE` (errorType
 * `bad_data`) whose message is shaped like Prometheus's (`1:4: parse error: unexpected end of input inside braces`).
 *
 * @example
 * parsePromql('up{job="node"}') // { kind: 'selector', matchers: [...] }
 */
export function parsePromql(input: string): Expr {
  const expr = toExpr(syntaxTree(input), input);
  typeOf(expr, input);
  return expr;
}

/**
 * Parses a `match[]` series selector (Prometheus's ParseMetricSelector): a vector selector only.
 *
 * @example
 * parseSeriesSelector('{job="node"}') // [{ name: 'job', op: '=', value: 'node' }]
 */
export function parseSeriesSelector(input: string): LabelMatcher[] {
  const node = syntaxTree(input);
  if (node.name !== 'VectorSelector') {
    // Blame the token after a leading selector (`up + 1`), else the expression's first token.
    let lead = node.firstChild;
    while (lead && lead.name !== 'VectorSelector') lead = lead.firstChild;
    const { pos, message } = unexpected(input, lead?.from === node.from ? lead.to : node.from);
    fail(input, pos, message);
  }
  return selector(node, input).matchers;
}

/** The expression node of a query that parses, or the parse error of the first error node. */
function syntaxTree(input: string): SyntaxNode {
  if (input.replace(/#[^\n]*/g, '').trim() === '') fail(input, 0, 'no expression found in input');
  const tree = parser.parse(input);
  let error: { pos: number; message: string } | undefined;
  tree.iterate({
    enter(node) {
      if (error) return false;
      if (node.type.isError) error = describeError(node.node, input);
      // The grammar lets a string literal run to the end of the line without its closing quote.
      else if (node.name === 'StringLiteral' && !TERMINATED_STRING.test(text(node, input))) {
        error = { pos: node.from, message: 'unterminated quoted string' };
      }
      return undefined;
    },
  });
  if (error) fail(input, error.pos, error.message);
  return tree.topNode.getChild('Expr')!;
}

const TERMINATED_STRING = /^(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)$/s;
const TOKEN = /^(?:"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|[\w:.]+|[=!<>~]+|.)/s;
/** What Prometheus's lexer says at the end of input inside an unclosed construct. */
const UNCLOSED_AT_END: Record<string, string> = {
  LabelMatchers: 'unexpected end of input inside braces',
  ParenExpr: 'unclosed left parenthesis',
  FunctionCallBody: 'unclosed left parenthesis',
  GroupingLabels: 'unclosed left parenthesis',
  MatrixSelector: 'unexpected end of input in duration expression',
  SubqueryExpr: 'unexpected end of input in duration expression',
};

function describeError(node: SyntaxNode, input: string): { pos: number; message: string } {
  const found = unexpected(input, node.from);
  const before = node.prevSibling;
  // `foo(up)`: the grammar knows every function by name, so an unknown one is an identifier then `(`.
  if (before?.name === 'Identifier' && input[found.pos] === '(') {
    return { pos: before.from, message: `unknown function with name ${JSON.stringify(text(before, input))}` };
  }
  if (found.pos === input.length) {
    for (let up = node.parent; up; up = up.parent) {
      const message = UNCLOSED_AT_END[up.name];
      if (message) return { pos: found.pos, message };
    }
  }
  return found;
}

/** `unexpected <token>` for the first token at or after `from`. */
function unexpected(input: string, from: number): { pos: number; message: string } {
  const pos = from + /^(?:\s|#[^\n]*)*/.exec(input.slice(from))![0].length;
  if (pos >= input.length) return { pos: input.length, message: 'unexpected end of input' };
  return { pos, message: `unexpected ${JSON.stringify(TOKEN.exec(input.slice(pos))![0])}` };
}

function fail(input: string, pos: number, message: string): never {
  const lines = input.slice(0, pos).split('\n');
  const where = `${lines.length}:${lines.at(-1)!.length + 1}`;
  throw new PrometheusError('ERR_PROMETHEUS_PARSE', `${where}: parse error: ${message}`, { errorType: 'bad_data' });
}

const text = (node: { from: number; to: number }, input: string) => input.slice(node.from, node.to);

/** The functions the mock evaluates. */
const SIGNATURES: Record<string, { args: ValueType[]; returns: ValueType }> = {
  scalar: { args: ['instant vector'], returns: 'scalar' },
  vector: { args: ['scalar'], returns: 'instant vector' },
  time: { args: [], returns: 'scalar' },
};

const UNSUPPORTED: Record<string, string> = {
  AggregateExpr: 'aggregation',
  BinaryExpr: 'binary operator',
  FunctionCall: 'function',
  MatrixSelector: 'range vector selector',
  SubqueryExpr: 'subquery',
  OffsetExpr: 'offset modifier',
  StepInvariantExpr: '@ modifier',
  AnchoredExpr: 'anchored modifier',
  SmoothedExpr: 'smoothed modifier',
};

function toExpr(node: SyntaxNode, input: string): Expr {
  const pos = node.from;
  const child = () => toExpr(node.getChild('Expr')!, input);
  switch (node.name) {
    case 'NumberDurationLiteral':
      return { kind: 'number', value: parseNumber(text(node, input)), pos };
    case 'StringLiteral':
      return { kind: 'string', value: unquote(text(node, input)), pos };
    case 'VectorSelector':
      return selector(node, input);
    case 'ParenExpr':
      return { kind: 'paren', expr: child(), pos };
    case 'UnaryExpr':
      return { kind: 'unary', op: text(node.firstChild!, input) as '+' | '-', expr: child(), pos };
  }
  const func = node.name === 'FunctionCall' ? text(node.firstChild!, input) : '';
  if (Object.hasOwn(SIGNATURES, func)) {
    const args = node.getChild('FunctionCallBody')!.getChildren('Expr').map((arg) => toExpr(arg, input));
    return { kind: 'call', func, args, pos };
  }
  // Not evaluated, but its selectors still get Prometheus's checks.
  for (let c = node.firstChild; c; c = c.nextSibling) toExpr(c, input);
  const name = node.name === 'BinaryExpr' ? node.firstChild?.nextSibling : node.name === 'AggregateExpr' || func ? node.firstChild : null;
  const what = UNSUPPORTED[node.name] ?? node.name;
  return { kind: 'unsupported', what: name ? `${what} "${text(name, input).toLowerCase()}"` : what, pos };
}

function selector(node: SyntaxNode, input: string): Expr & { kind: 'selector' } {
  const matchers: LabelMatcher[] = [];
  for (let m = node.getChild('LabelMatchers')?.firstChild; m; m = m.nextSibling) {
    // Prometheus 3: a lone quoted string is the metric name; quoted before an operator, a label name.
    if (m.name === 'QuotedLabelName') matchers.push({ name: '__name__', op: '=', value: unquote(text(m, input)) });
    if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue;
    const name = text(m.firstChild!, input);
    const value = m.lastChild!;
    const matcher: LabelMatcher = {
      name: m.name === 'QuotedLabelMatcher' ? unquote(name) : name,
      op: text(m.getChild('MatchOp')!, input) as MatchOp,
      value: unquote(text(value, input)),
    };
    if (matcher.op === '=~' || matcher.op === '!~') {
      try {
        matcher.regex = compileRegex(matcher.value);
      } catch (error) {
        fail(input, value.from, `error parsing regexp: ${(error as Error).message}`);
      }
    }
    matchers.push(matcher);
  }
  const metric = node.getChild('Identifier');
  if (metric) {
    const named = matchers.find((m) => m.name === '__name__');
    if (named) fail(input, node.from, `metric name must not be set twice: ${JSON.stringify(text(metric, input))} or ${JSON.stringify(named.value)}`);
    matchers.push({ name: '__name__', op: '=', value: text(metric, input) });
  }
  if (!matchers.some((m) => !matchesLabel(m, ''))) fail(input, node.from, 'vector selector must contain at least one non-empty matcher');
  return { kind: 'selector', matchers, pos: node.from };
}

/** Prometheus's type checks (checkAST) for the parts the mock evaluates; `undefined` when unsupported. */
function typeOf(expr: Expr, input: string): ValueType | undefined {
  switch (expr.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'selector':
      return 'instant vector';
    case 'paren':
      return typeOf(expr.expr, input);
    case 'unsupported':
      return undefined;
    case 'unary': {
      const type = typeOf(expr.expr, input);
      if (type === 'string') fail(input, expr.pos, 'unary expression only allowed on expressions of type scalar or instant vector, got "string"');
      return type;
    }
    case 'call': {
      const signature = SIGNATURES[expr.func]!;
      if (expr.args.length !== signature.args.length) {
        fail(input, expr.pos, `expected ${signature.args.length} argument(s) in call to ${JSON.stringify(expr.func)}, got ${expr.args.length}`);
      }
      expr.args.forEach((arg, i) => {
        const type = typeOf(arg, input);
        if (type !== undefined && type !== signature.args[i]) {
          fail(input, arg.pos, `expected type ${signature.args[i]} in call to function ${JSON.stringify(expr.func)}, got ${type}`);
        }
      });
      return signature.returns;
    }
  }
}

const DURATION_UNIT_MS: Record<string, number> = { y: 31_536_000_000, w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** A number literal as the grammar accepts it: signed, `_` separators, hex, Inf/NaN, or a duration in seconds. */
function parseNumber(literal: string): number {
  const sign = literal.startsWith('-') ? -1 : 1;
  const body = literal.replace(/^[+-]/, '').replace(/_/g, '').trim();
  const lower = body.toLowerCase();
  if (lower === 'inf') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (lower.startsWith('0x')) return sign * parseInt(body.slice(2), 16);
  if (/^(?:\d+(?:ms|[ywdhms]))+$/.test(body)) {
    const ms = [...body.matchAll(/(\d+)(ms|[ywdhms])/g)].reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_UNIT_MS[unit!]!, 0);
    return (sign * ms) / 1000;
  }
  return sign * Number(body);
}

/** Go strconv.Unquote for the quote styles PromQL accepts. */
function unquote(raw: string): string {
  if (raw.startsWith('`')) return raw.slice(1, -1);
  const body = raw.slice(1, -1);
  return body.replace(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3})|(.))/gs, (_m, x, u, U, o, c) => {
    if (x || u || U) return String.fromCodePoint(parseInt(x ?? u ?? U, 16));
    if (o) return String.fromCharCode(parseInt(o, 8));
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
    return simple[c as string] ?? (c as string);
  });
}

/** RE2 (Go) regex as JS: anchored, dot matches newline, leading `(?i)`-style flags lifted. */
function compileRegex(pattern: string): RegExp {
  let source = pattern;
  let flags = 's';
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    if (inline[1]!.includes('i')) flags += 'i';
  }
  return new RegExp(`^(?:${source})$`, flags);
}
