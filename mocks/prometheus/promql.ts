import { PrometheusError } from './errors.ts';

// A PromQL front end shaped after prometheus/promql/parser (lex.go, generated_parser.y): it parses
// the whole language far enough to reject what Prometheus rejects with Prometheus's own wording
// and positions, and marks what the mock does not evaluate (aggregations, binary operators,
// ranges, modifiers, most functions) as `unsupported`, so those answer 422 `execution`, never a
// misleading `bad_data`.

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
 * Parses a PromQL expression; throws a PrometheusError `ERR_PROMETHEUS_PARSE` whose message is
 * Prometheus's (`1:4: parse error: unexpected end of input inside braces`).
 *
 * @example
 * parsePromql('up{job="node"}') // { kind: 'selector', matchers: [...] }
 */
export function parsePromql(input: string): Expr {
  return new Parser(input).parseQuery();
}

/**
 * Parses a `match[]` series selector (Prometheus's ParseMetricSelector): a vector selector only.
 *
 * @example
 * parseSeriesSelector('{job="node"}')
 */
export function parseSeriesSelector(input: string): LabelMatcher[] {
  return new Parser(input).parseSelectorOnly();
}

// ---------------------------------------------------------------------------------------------
// Lexer

type TokenType =
  | 'EOF'
  | 'ERROR'
  | 'IDENT'
  | 'METRIC_IDENT'
  | 'NUMBER'
  | 'DURATION'
  | 'STRING'
  | 'OP'
  | 'AGGR'
  | 'KEYWORD'
  | '('
  | ')'
  | '{'
  | '}'
  | '['
  | ']'
  | ','
  | '='
  | ':'
  | '@';

interface Token {
  type: TokenType;
  /** Raw text; for ERROR the message. */
  text: string;
  pos: number;
}

const AGGREGATORS = new Set([
  'sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk',
  'count_values', 'quantile', 'limitk', 'limit_ratio',
]);
const AGGREGATORS_WITH_PARAM = new Set(['topk', 'bottomk', 'count_values', 'quantile', 'limitk', 'limit_ratio']);
const KEYWORD_OPS = new Set(['and', 'or', 'unless', 'atan2']);
const KEYWORDS = new Set([
  'offset', 'smoothed', 'anchored', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool',
  'start', 'end', 'step',
]);

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) =>
  c !== undefined && (c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlphaNumeric = (c: string | undefined) => isAlpha(c) || isDigit(c);
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Go's `%q` of a rune, for the characters that show up in error messages. */
function quoteRune(c: string | undefined): string {
  if (c === undefined) return "'\\ufffd'";
  const escapes: Record<string, string> = { "'": "\\'", '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return `'${escapes[c] ?? c}'`;
}

/** Go's `%q` of a string (close enough: JSON escaping). */
function quote(s: string): string {
  return JSON.stringify(s);
}

// Durations as Prometheus's model.ParseDuration reads them: units in descending order, each once.
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1_000, 1];

function durationSeconds(text: string): number | undefined {
  const m = DURATION_RE.exec(text);
  if (!m || text === '') return undefined;
  let ms = 0;
  for (let i = 0; i < DURATION_UNITS_MS.length; i++) if (m[i + 1]) ms += Number(m[i + 1]) * DURATION_UNITS_MS[i]!;
  return ms / 1000;
}

class Lexer {
  readonly #input: string;
  #pos = 0;
  #parenDepth = 0;
  #braceOpen = false;
  #bracketOpen = false;
  #gotColon = false;
  #gotDuration = false;
  #done = false;

  constructor(input: string) {
    this.#input = input;
  }

  next(): Token {
    if (this.#done) return { type: 'EOF', text: '', pos: this.#input.length };
    const token = this.#scan();
    if (token.type === 'ERROR' || token.type === 'EOF') this.#done = true;
    return token;
  }

  #peekChar(offset = 0): string | undefined {
    return this.#input[this.#pos + offset];
  }

  #error(start: number, message: string): Token {
    return { type: 'ERROR', text: message, pos: start };
  }

  #emit(type: TokenType, start: number): Token {
    return { type, text: this.#input.slice(start, this.#pos), pos: start };
  }

  #skipSpaceAndComments(): void {
    for (;;) {
      const c = this.#peekChar();
      if (isSpace(c)) this.#pos++;
      else if (c === '#' && !this.#bracketOpen) {
        while (this.#pos < this.#input.length && this.#input[this.#pos] !== '\n' && this.#input[this.#pos] !== '\r') {
          this.#pos++;
        }
      } else return;
    }
  }

  #scan(): Token {
    this.#skipSpaceAndComments();
    if (this.#braceOpen) return this.#scanInsideBraces();
    if (this.#bracketOpen) return this.#scanInsideBrackets();
    const start = this.#pos;
    const c = this.#input[this.#pos];
    if (c === undefined) {
      if (this.#parenDepth !== 0) return this.#error(start, 'unclosed left parenthesis');
      return this.#emit('EOF', start);
    }
    this.#pos++;
    switch (c) {
      case ',':
        return this.#emit(',', start);
      case '*':
      case '/':
      case '%':
      case '+':
      case '-':
      case '^':
        return this.#emit('OP', start);
      case '=': {
        const t = this.#peekChar();
        if (t === '=') {
          this.#pos++;
          return this.#emit('OP', start);
        }
        if (t === '~') return this.#error(start, `unexpected character after '=': ${quoteRune(t)}`);
        return this.#emit('=', start);
      }
      case '!': {
        const t = this.#input[this.#pos];
        this.#pos++;
        if (t !== '=') return this.#error(start, `unexpected character after '!': ${quoteRune(t)}`);
        return this.#emit('OP', start);
      }
      case '<':
      case '>':
        if (this.#peekChar() === '=') this.#pos++;
        return this.#emit('OP', start);
      case '"':
      case "'":
        return this.#scanString(start, c);
      case '`':
        return this.#scanRawString(start);
      case '(':
        this.#parenDepth++;
        return this.#emit('(', start);
      case ')': {
        const token = this.#emit(')', start);
        this.#parenDepth--;
        // Prometheus emits the ')' and then overwrites it with the error, positioned after it.
        if (this.#parenDepth < 0) return this.#error(this.#pos, `unexpected right parenthesis ${quoteRune(c)}`);
        return token;
      }
      case '{':
        this.#braceOpen = true;
        return this.#emit('{', start);
      case '[':
        this.#bracketOpen = true;
        this.#gotColon = false;
        this.#gotDuration = false;
        return this.#emit('[', start);
      case ']':
        return this.#error(start, `unexpected right bracket ${quoteRune(c)}`);
      case '@':
        return this.#emit('@', start);
    }
    if (isDigit(c) || (c === '.' && isDigit(this.#peekChar()))) {
      this.#pos = start;
      return this.#scanNumberOrDuration(start);
    }
    if (isAlpha(c) || c === ':') {
      while (isAlphaNumeric(this.#peekChar()) || this.#peekChar() === ':') this.#pos++;
      const word = this.#input.slice(start, this.#pos);
      const lower = word.toLowerCase();
      if (lower === 'inf' || lower === 'nan') return this.#emit('NUMBER', start);
      if (AGGREGATORS.has(lower)) return this.#emit('AGGR', start);
      if (KEYWORD_OPS.has(lower)) return this.#emit('OP', start);
      if (KEYWORDS.has(lower)) return this.#emit('KEYWORD', start);
      return this.#emit(word.includes(':') ? 'METRIC_IDENT' : 'IDENT', start);
    }
    return this.#error(start, `unexpected character: ${quoteRune(c)}`);
  }

  #scanInsideBraces(): Token {
    const start = this.#pos;
    const c = this.#input[this.#pos];
    if (c === undefined) return this.#error(start, 'unexpected end of input inside braces');
    this.#pos++;
    if (isAlpha(c)) {
      while (isAlphaNumeric(this.#peekChar())) this.#pos++;
      return this.#emit('IDENT', start);
    }
    switch (c) {
      case ',':
        return this.#emit(',', start);
      case '"':
      case "'":
        return this.#scanString(start, c);
      case '`':
        return this.#scanRawString(start);
      case '=':
        if (this.#peekChar() === '~') {
          this.#pos++;
          return this.#emit('OP', start);
        }
        return this.#emit('=', start);
      case '!': {
        const t = this.#input[this.#pos];
        this.#pos++;
        if (t === '~' || t === '=') return this.#emit('OP', start);
        return this.#error(start, `unexpected character after '!' inside braces: ${quoteRune(t)}`);
      }
      case '{':
        return this.#error(start, `unexpected left brace ${quoteRune(c)}`);
      case '}':
        this.#braceOpen = false;
        return this.#emit('}', start);
    }
    return this.#error(start, `unexpected character inside braces: ${quoteRune(c)}`);
  }

  #scanInsideBrackets(): Token {
    const start = this.#pos;
    const c = this.#input[this.#pos];
    if (c === undefined) return this.#error(start, 'unexpected end of input in duration expression');
    this.#pos++;
    switch (c) {
      case ']':
        this.#bracketOpen = false;
        this.#gotColon = false;
        return this.#emit(']', start);
      case ':': {
        const token = this.#emit(':', start);
        if (!this.#gotDuration) return this.#error(this.#pos, 'unexpected colon before duration in duration expression');
        if (this.#gotColon) return this.#error(this.#pos, 'unexpected repeated colon in duration expression');
        this.#gotColon = true;
        return token;
      }
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '^':
        return this.#emit('OP', start);
      case ',':
        return this.#emit(',', start);
      case '(':
        this.#parenDepth++;
        return this.#emit('(', start);
      case ')': {
        const token = this.#emit(')', start);
        this.#parenDepth--;
        if (this.#parenDepth < 0) return this.#error(this.#pos, `unexpected right parenthesis ${quoteRune(c)}`);
        return token;
      }
    }
    if (isDigit(c) || (c === '.' && isDigit(this.#peekChar()))) {
      this.#pos = start;
      this.#gotDuration = true;
      return this.#scanNumberOrDuration(start);
    }
    return this.#error(start, `unexpected character in duration expression: ${quoteRune(c)}`);
  }

  #scanNumberOrDuration(start: number): Token {
    const rest = this.#input.slice(start);
    const duration = /^(?:\d+(?:ms|[smhdwy]))+/.exec(rest);
    if (duration && !isAlphaNumeric(rest[duration[0].length])) {
      this.#pos = start + duration[0].length;
      return this.#emit('DURATION', start);
    }
    const number = /^(?:0[xX]_?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*|(?:\d+(?:_\d+)*)?(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?)/.exec(rest);
    const length = number?.[0].length ?? 0;
    const after = rest[length];
    if (length > 0 && !isAlphaNumeric(after) && after !== '.') {
      this.#pos = start + length;
      return this.#emit('NUMBER', start);
    }
    let end = start + Math.max(length, 1);
    while (end < this.#input.length && (isAlphaNumeric(this.#input[end]) || this.#input[end] === '.')) end++;
    this.#pos = end;
    return this.#error(start, `bad number or duration syntax: ${quote(this.#input.slice(start, end))}`);
  }

  #scanString(start: number, open: string): Token {
    for (;;) {
      const c = this.#input[this.#pos];
      if (c === undefined || c === '\n') return this.#error(start, 'unterminated quoted string');
      this.#pos++;
      if (c === '\\') {
        if (this.#pos >= this.#input.length) return this.#error(start, 'escape sequence not terminated');
        this.#pos++;
        continue;
      }
      if (c === open) return this.#emit('STRING', start);
    }
  }

  #scanRawString(start: number): Token {
    const end = this.#input.indexOf('`', this.#pos);
    if (end < 0) {
      this.#pos = this.#input.length;
      return this.#error(start, 'unterminated raw string');
    }
    this.#pos = end + 1;
    return this.#emit('STRING', start);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

const BINARY_PRECEDENCE: Record<string, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<=': 3,
  '<': 3,
  '>=': 3,
  '>': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '^': 6,
};
const COMPARISON_OPS = new Set(['==', '!=', '<=', '<', '>=', '>']);

interface FunctionSignature {
  args: ValueType[];
  returns: ValueType;
}

/** The functions the mock evaluates. */
const SUPPORTED_FUNCTIONS: Record<string, FunctionSignature> = {
  scalar: { args: ['instant vector'], returns: 'scalar' },
  vector: { args: ['scalar'], returns: 'instant vector' },
  time: { args: [], returns: 'scalar' },
};

/** Other functions Prometheus knows: valid PromQL, not evaluated by the mock. */
const KNOWN_FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil',
  'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week',
  'day_of_year', 'days_in_month', 'deg', 'delta', 'deriv', 'double_exponential_smoothing', 'exp', 'first_over_time',
  'floor', 'histogram_avg', 'histogram_count', 'histogram_fraction', 'histogram_quantile', 'histogram_stddev',
  'histogram_stdvar', 'histogram_sum', 'hour', 'idelta', 'increase', 'info', 'irate', 'label_join', 'label_replace',
  'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi',
  'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'sgn', 'sin', 'sinh',
  'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time',
  'sum_over_time', 'tan', 'tanh', 'timestamp', 'ts_of_first_over_time', 'ts_of_last_over_time', 'ts_of_max_over_time',
  'ts_of_min_over_time', 'year',
]);

/** How Prometheus's parser names a token in "unexpected ..." messages (Item.desc in lex.go). */
function describe(token: Token): string {
  switch (token.type) {
    case 'EOF':
      return 'end of input';
    case 'IDENT':
      return `identifier ${quote(token.text)}`;
    case 'METRIC_IDENT':
      return `metric identifier ${quote(token.text)}`;
    case 'NUMBER':
    case 'DURATION':
    case 'STRING': {
      const kind = token.type === 'STRING' ? 'string' : token.type.toLowerCase();
      const chars = [...token.text];
      return chars.length > 10 ? `${kind} ${quote(chars.slice(0, 10).join(''))}...` : `${kind} ${quote(token.text)}`;
    }
    case 'OP':
      return `<op:${token.text.toLowerCase()}>`;
    case 'AGGR':
      return `<aggr:${token.text.toLowerCase()}>`;
    case 'KEYWORD':
      return `<${token.text.toLowerCase()}>`;
    default:
      return quote(token.text);
  }
}

function lineAndColumn(input: string, pos: number): string {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < pos && i < input.length; i++) {
    if (input[i] === '\n') {
      line++;
      lastBreak = i;
    }
  }
  return `${line}:${pos - lastBreak}`;
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

function parseNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'inf') return Infinity;
  if (lower === 'nan') return NaN;
  const clean = text.replace(/_/g, '');
  if (/^0x/i.test(clean)) return parseInt(clean.slice(2), 16);
  return Number(clean);
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

class Parser {
  readonly #input: string;
  readonly #lexer: Lexer;
  readonly #buffer: Token[] = [];

  constructor(input: string) {
    this.#input = input;
    this.#lexer = new Lexer(input);
  }

  parseQuery(): Expr {
    if (this.#peek().type === 'EOF') this.#fail(0, 'no expression found in input');
    const expr = this.#parseExpr(0);
    const next = this.#peek();
    if (next.type !== 'EOF') this.#unexpected(next);
    this.#check(expr);
    return expr;
  }

  parseSelectorOnly(): LabelMatcher[] {
    const first = this.#peek();
    if (first.type !== 'IDENT' && first.type !== 'METRIC_IDENT' && first.type !== '{') this.#unexpected(first);
    const selector = this.#parseSelector();
    const next = this.#peek();
    if (next.type !== 'EOF') this.#unexpected(next);
    return selector.kind === 'selector' ? selector.matchers : [];
  }

  // -- token stream --------------------------------------------------------------------------

  #peek(k = 0): Token {
    while (this.#buffer.length <= k) this.#buffer.push(this.#lexer.next());
    const token = this.#buffer[k]!;
    if (k === 0 && token.type === 'ERROR') this.#fail(token.pos, token.text);
    return token;
  }

  #next(): Token {
    const token = this.#peek();
    this.#buffer.shift();
    return token;
  }

  #expect(type: TokenType, context = '', expected = ''): Token {
    const token = this.#peek();
    if (token.type !== type) this.#unexpected(token, context, expected);
    return this.#next();
  }

  #fail(pos: number, message: string): never {
    throw new PrometheusError('ERR_PROMETHEUS_PARSE', `${lineAndColumn(this.#input, pos)}: parse error: ${message}`, {
      errorType: 'bad_data',
    });
  }

  #unexpected(token: Token, context = '', expected = ''): never {
    let message = `unexpected ${describe(token)}`;
    if (context) message += ` in ${context}`;
    if (expected) message += `, expected ${expected}`;
    this.#fail(token.pos, message);
  }

  // -- expressions -----------------------------------------------------------------------------

  #binaryOperator(token: Token): string | undefined {
    if (token.type !== 'OP') return undefined;
    const op = token.text.toLowerCase();
    return op in BINARY_PRECEDENCE ? op : undefined;
  }

  #parseExpr(minPrecedence: number): Expr {
    let lhs = this.#parseUnary();
    for (;;) {
      const op = this.#binaryOperator(this.#peek());
      if (op === undefined) return lhs;
      const precedence = BINARY_PRECEDENCE[op]!;
      if (precedence < minPrecedence) return lhs;
      this.#next();
      this.#parseBinaryModifiers(op);
      // `^` is right-associative; everything else left-associative.
      this.#parseExpr(op === '^' ? precedence : precedence + 1);
      lhs = { kind: 'unsupported', what: `binary operator "${op}"`, pos: lhs.pos };
    }
  }

  #parseBinaryModifiers(op: string): void {
    if (COMPARISON_OPS.has(op) && this.#isKeyword('bool')) this.#next();
    if (this.#isKeyword('on') || this.#isKeyword('ignoring')) {
      this.#next();
      this.#parseGroupingLabels();
      if (this.#isKeyword('group_left') || this.#isKeyword('group_right')) {
        this.#next();
        if (this.#peek().type === '(') this.#parseGroupingLabels();
      }
    }
  }

  #isKeyword(word: string): boolean {
    const token = this.#peek();
    return token.type === 'KEYWORD' && token.text.toLowerCase() === word;
  }

  #parseUnary(): Expr {
    const token = this.#peek();
    if (token.type === 'OP' && (token.text === '+' || token.text === '-')) {
      this.#next();
      const expr = this.#parseUnary();
      return { kind: 'unary', op: token.text, expr, pos: token.pos };
    }
    return this.#parsePostfix();
  }

  #parsePostfix(): Expr {
    let expr = this.#parsePrimary();
    for (;;) {
      const token = this.#peek();
      if (token.type === '[') {
        expr = this.#parseRangeOrSubquery(expr);
      } else if (token.type === 'KEYWORD' && token.text.toLowerCase() === 'offset') {
        this.#next();
        const sign = this.#peek();
        if (sign.type === 'OP' && (sign.text === '-' || sign.text === '+')) this.#next();
        const amount = this.#peek();
        if (amount.type !== 'DURATION' && amount.type !== 'NUMBER') this.#unexpected(amount, 'offset', 'number, duration, step(), or range()');
        this.#next();
        expr = { kind: 'unsupported', what: 'offset modifier', pos: expr.pos };
      } else if (token.type === '@') {
        this.#next();
        const at = this.#peek();
        if (at.type === 'KEYWORD' && ['start', 'end'].includes(at.text.toLowerCase())) {
          this.#next();
          this.#expect('(', '@', '"("');
          this.#expect(')', '@', '")"');
        } else {
          if (at.type === 'OP' && (at.text === '-' || at.text === '+')) this.#next();
          const value = this.#peek();
          if (value.type !== 'NUMBER') this.#unexpected(value, '@', 'timestamp');
          this.#next();
        }
        expr = { kind: 'unsupported', what: '@ modifier', pos: expr.pos };
      } else {
        return expr;
      }
    }
  }

  #parseRangeOrSubquery(expr: Expr): Expr {
    const open = this.#next(); // [
    const range = this.#peek();
    if (range.type !== 'DURATION' && range.type !== 'NUMBER') {
      this.#unexpected(range, 'subquery or range selector', 'number, duration, step(), or range()');
    }
    this.#next();
    const after = this.#peek();
    if (after.type === ':') {
      this.#next();
      const step = this.#peek();
      if (step.type === 'DURATION' || step.type === 'NUMBER') {
        this.#next();
        this.#expect(']', 'subquery selector', '"]"');
      } else {
        this.#expect(']', 'subquery selector', 'number, duration, step(), range(), or "]"');
      }
      return { kind: 'unsupported', what: 'subquery', pos: expr.pos };
    }
    this.#expect(']', 'subquery or range', '":" or "]"');
    if (expr.kind !== 'selector') this.#fail(open.pos, 'ranges only allowed for vector selectors');
    return { kind: 'unsupported', what: 'range vector selector', pos: expr.pos };
  }

  #parsePrimary(): Expr {
    const token = this.#peek();
    switch (token.type) {
      case 'NUMBER':
        this.#next();
        return { kind: 'number', value: parseNumber(token.text), pos: token.pos };
      case 'DURATION': {
        this.#next();
        const seconds = durationSeconds(token.text);
        if (seconds === undefined) this.#fail(token.pos, `not a valid duration string: ${quote(token.text)}`);
        return { kind: 'number', value: seconds, pos: token.pos };
      }
      case 'STRING':
        this.#next();
        return { kind: 'string', value: unquote(token.text), pos: token.pos };
      case '(': {
        this.#next();
        const expr = this.#parseExpr(0);
        this.#expect(')');
        return { kind: 'paren', expr, pos: token.pos };
      }
      case 'IDENT':
        if (this.#peek(1).type === '(') return this.#parseCall();
        return this.#parseSelector();
      case 'METRIC_IDENT':
      case '{':
        return this.#parseSelector();
      case 'AGGR':
        return this.#parseAggregation();
      default:
        this.#unexpected(token);
    }
  }

  #parseCall(): Expr {
    const name = this.#next();
    if (!(name.text in SUPPORTED_FUNCTIONS) && !KNOWN_FUNCTIONS.has(name.text)) {
      this.#fail(name.pos, `unknown function with name ${quote(name.text)}`);
    }
    const args = this.#parseCallBody();
    if (name.text in SUPPORTED_FUNCTIONS) return { kind: 'call', func: name.text, args, pos: name.pos };
    return { kind: 'unsupported', what: `function "${name.text}"`, pos: name.pos };
  }

  #parseCallBody(): Expr[] {
    this.#expect('(');
    const args: Expr[] = [];
    if (this.#peek().type === ')') {
      this.#next();
      return args;
    }
    for (;;) {
      args.push(this.#parseExpr(0));
      const token = this.#peek();
      if (token.type === ')') {
        this.#next();
        return args;
      }
      if (token.type !== ',') this.#unexpected(token);
      this.#next();
      if (this.#peek().type === ')') this.#fail(token.pos, 'trailing commas not allowed in function call args');
    }
  }

  #parseAggregation(): Expr {
    const op = this.#next();
    const name = op.text.toLowerCase();
    let grouped = false;
    if (this.#isKeyword('by') || this.#isKeyword('without')) {
      this.#next();
      this.#parseGroupingLabels();
      grouped = true;
    }
    if (this.#peek().type !== '(') this.#unexpected(this.#peek(), 'aggregation');
    const args = this.#parseCallBody();
    if (!grouped && (this.#isKeyword('by') || this.#isKeyword('without'))) {
      this.#next();
      this.#parseGroupingLabels();
    }
    if (args.length === 0) this.#fail(op.pos, 'no arguments for aggregate expression provided');
    const expected = AGGREGATORS_WITH_PARAM.has(name) ? 2 : 1;
    if (args.length !== expected) {
      this.#fail(op.pos, `wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args.length}`);
    }
    return { kind: 'unsupported', what: `aggregation "${name}"`, pos: op.pos };
  }

  #parseGroupingLabels(): void {
    this.#expect('(', 'grouping opts', '"("');
    if (this.#peek().type === ')') {
      this.#next();
      return;
    }
    for (;;) {
      const label = this.#peek();
      if (!['IDENT', 'AGGR', 'KEYWORD', 'STRING'].includes(label.type) && !(label.type === 'OP' && /^[a-z]/i.test(label.text))) {
        this.#unexpected(label, 'grouping opts', 'label');
      }
      this.#next();
      const token = this.#peek();
      if (token.type === ')') {
        this.#next();
        return;
      }
      if (token.type !== ',') this.#unexpected(token, 'grouping opts', '"," or ")"');
      this.#next();
      if (this.#peek().type === ')') {
        this.#next();
        return;
      }
    }
  }

  #parseSelector(): Expr {
    const first = this.#peek();
    const pos = first.pos;
    let name: string | undefined;
    if (first.type === 'IDENT' || first.type === 'METRIC_IDENT') {
      name = this.#next().text;
    }
    const matchers: LabelMatcher[] = [];
    if (this.#peek().type === '{') {
      this.#next();
      this.#parseMatchers(matchers);
    }
    if (name !== undefined) {
      const nameMatcher = matchers.find((m) => m.name === '__name__');
      if (nameMatcher) this.#fail(pos, `metric name must not be set twice: ${quote(name)} or ${quote(nameMatcher.value)}`);
      matchers.push({ name: '__name__', op: '=', value: name });
    }
    if (!matchers.some((m) => !matchesLabel(m, ''))) {
      this.#fail(pos, 'vector selector must contain at least one non-empty matcher');
    }
    return { kind: 'selector', matchers, pos };
  }

  #parseMatchers(matchers: LabelMatcher[]): void {
    for (;;) {
      const token = this.#peek();
      if (token.type === '}') {
        this.#next();
        return;
      }
      if (token.type === 'STRING') {
        // Prometheus 3: a lone quoted string is the metric name; quoted before an operator, a label name.
        this.#next();
        const after = this.#peek();
        if (after.type === ',' || after.type === '}') {
          matchers.push({ name: '__name__', op: '=', value: unquote(token.text) });
        } else {
          matchers.push(this.#parseMatcherRest(unquote(token.text)));
        }
      } else if (token.type === 'IDENT') {
        this.#next();
        matchers.push(this.#parseMatcherRest(token.text));
      } else {
        this.#unexpected(token, 'label matching', 'identifier or "}"');
      }
      const next = this.#peek();
      if (next.type === '}') continue;
      if (next.type !== ',') this.#unexpected(next, 'label matching', '"," or "}"');
      this.#next();
    }
  }

  #parseMatcherRest(name: string): LabelMatcher {
    const opToken = this.#peek();
    const op = opToken.type === '=' ? '=' : opToken.type === 'OP' ? opToken.text : '';
    if (op !== '=' && op !== '!=' && op !== '=~' && op !== '!~') {
      this.#unexpected(opToken, 'label matching', 'label matching operator');
    }
    this.#next();
    const valueToken = this.#peek();
    if (valueToken.type !== 'STRING') this.#unexpected(valueToken, 'label matching', 'string');
    this.#next();
    const value = unquote(valueToken.text);
    const matcher: LabelMatcher = { name, op, value };
    if (op === '=~' || op === '!~') {
      try {
        matcher.regex = compileRegex(value);
      } catch (error) {
        this.#fail(valueToken.pos, `error parsing regexp: ${(error as Error).message}`);
      }
    }
    return matcher;
  }

  // -- type checks (Prometheus's checkAST, for the parts the mock evaluates) ------------------

  #check(expr: Expr): ValueType | undefined {
    switch (expr.kind) {
      case 'number':
        return 'scalar';
      case 'string':
        return 'string';
      case 'selector':
        return 'instant vector';
      case 'paren':
        return this.#check(expr.expr);
      case 'unsupported':
        return undefined;
      case 'unary': {
        const type = this.#check(expr.expr);
        if (type === 'string' || type === 'range vector') {
          this.#fail(expr.pos, `unary expression only allowed on expressions of type scalar or instant vector, got ${quote(type)}`);
        }
        return type;
      }
      case 'call': {
        const signature = SUPPORTED_FUNCTIONS[expr.func]!;
        if (expr.args.length !== signature.args.length) {
          this.#fail(expr.pos, `expected ${signature.args.length} argument(s) in call to ${quote(expr.func)}, got ${expr.args.length}`);
        }
        expr.args.forEach((arg, i) => {
          const type = this.#check(arg);
          if (type !== undefined && type !== signature.args[i]) {
            this.#fail(arg.pos, `expected type ${signature.args[i]} in call to function ${quote(expr.func)}, got ${type}`);
          }
        });
        return signature.returns;
      }
    }
  }
}
