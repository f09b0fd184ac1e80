import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { parse as parseJson, type ParseError } from 'jsonc-parser';
import { ClientError, type ClientErrorCode } from './errors.ts';

/** A user's YAML or JSON file, parsed, with what is needed to point at a line. */
export interface ParsedUserFile {
  file: string;
  value: unknown;
  doc: Document | undefined;
  lineCounter: LineCounter;
}

/**
 * Parses YAML, or JSON when `json` (JSON syntax errors then read like JSON's, with its position).
 * Positions of fields come from the yaml package either way: JSON is YAML's flow syntax.
 */
export function parseUserFile(text: string, options: { file: string; json: boolean; code: ClientErrorCode }): ParsedUserFile {
  const { file, code } = options;
  const lineCounter = new LineCounter();
  if (options.json) {
    let value: unknown;
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const position = jsonErrorPosition(message, text);
      const where = position ? `${file}:${position.line}:${position.column}` : file;
      throw new ClientError(code, `${where}: not valid JSON: ${message}`, { file, ...position }, { cause: error });
    }
    const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
    return { file, value, doc: doc.errors.length === 0 ? doc : undefined, lineCounter };
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const first = doc.errors[0];
  if (first) {
    const start = lineCounter.linePos(first.pos[0]);
    const position = { line: Math.max(start.line, 1), column: start.col };
    throw new ClientError(code, `${file}:${position.line}:${position.column}: not valid YAML: ${first.message}`, { file, ...position }, { cause: first });
  }
  return { file, value: doc.toJS(), doc, lineCounter };
}

/**
 * Line and column (1-based) of the node at `path`, or of the deepest existing ancestor when the
 * path goes further than the file does (a missing field points at its parent's key).
 * `keyOnly` points at the last key rather than at its value.
 */
function locate(parsed: ParsedUserFile, path: readonly string[], options: { keyOnly?: boolean } = {}): { line: number; column: number } | undefined {
  if (!parsed.doc) return undefined;
  let node: unknown = parsed.doc.contents;
  let range = rangeOf(node);
  for (const [index, segment] of path.entries()) {
    const entry = childOf(node, segment);
    if (!entry) break;
    const next = path[index + 1];
    if (next === undefined) {
      range = (options.keyOnly ? entry.keyRange ?? entry.valueRange : entry.valueRange ?? entry.keyRange) ?? range;
      break;
    }
    if (!childOf(entry.value, next)) {
      // The path goes further than the file: show the last key that is there.
      range = entry.keyRange ?? entry.valueRange ?? range;
      break;
    }
    range = entry.valueRange ?? range;
    node = entry.value;
  }
  if (!range) return undefined;
  const { line, col } = parsed.lineCounter.linePos(range[0] ?? 0);
  return { line: Math.max(line, 1), column: col };
}

/** `mcp_servers.prometheus.headers.Authorization` */
function fieldPath(path: readonly string[]): string {
  return path.join('.');
}

function childOf(node: unknown, segment: string): { value: unknown; keyRange?: readonly number[]; valueRange?: readonly number[] } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
    if (!pair) return undefined;
    return { value: pair.value, keyRange: rangeOf(pair.key), valueRange: rangeOf(pair.value) };
  }
  if (isSeq(node)) {
    const item = node.items[Number(segment)];
    return item === undefined ? undefined : { value: item, valueRange: rangeOf(item) };
  }
  return undefined;
}

function rangeOf(node: unknown): readonly number[] | undefined {
  if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) return node.range as number[];
  return undefined;
}

function jsonErrorPosition(message: string, text: string): { line: number; column: number } | undefined {
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  // V8 does not always give a position ("Unexpected token ']', ..."): jsonc-parser, in strict
  // JSON mode, finds the first error's offset.
  const errors: ParseError[] = [];
  parseJson(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const offset = errors[0]?.offset;
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** A ClientError pointing at `path` in the file: `file:line:column: field: message`. */
export function userFileError(parsed: ParsedUserFile, code: ClientErrorCode, path: readonly string[], message: string, options: { keyOnly?: boolean } = {}): ClientError {
  const position = locate(parsed, path, options);
  const field = fieldPath(path);
  const where = `${parsed.file}${position ? `:${position.line}:${position.column}` : ''}`;
  return new ClientError(code, `${where}: ${field ? `${field}: ` : ''}${message}`, {
    file: parsed.file,
    ...position,
    ...(field ? { field } : {}),
  });
}
