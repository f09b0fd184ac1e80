import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { TopologyError, type SourceLocation } from './errors.ts';

export type FieldPath = readonly (string | number)[];

/** A YAML file read with positions, so any field can be traced back to its line. */
export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /**
   * The line and column of `path` in this file. With `exact`, undefined when the file does not
   * set that very field; otherwise the nearest parent that it sets.
   */
  locate(path: FieldPath, options?: { exact?: boolean }): SourceLocation | undefined;
}

/** Where the fields of a merged document came from, most specific first. */
export type Origins = readonly { source: YamlSource; prefix: FieldPath }[];

/** Finds which file sets `field` of the merged document, and its line. */
export function locate(origins: Origins, field: FieldPath, fallbackFile: string): SourceLocation {
  for (const exact of [true, false]) {
    for (const { source, prefix } of origins) {
      const found = source.locate([...prefix, ...field], { exact });
      if (found) return { ...found, field: formatField(field) };
    }
  }
  return { file: fallbackFile, field: formatField(field) };
}

export function formatField(path: FieldPath): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key),
    '',
  );
}

export async function readYamlSource(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TopologyError(
      code === 'ENOENT' ? 'ERR_SCENARIO_NOT_FOUND' : 'ERR_SCENARIO_READ',
      code === 'ENOENT' ? 'no such file' : `cannot read: ${(error as Error).message}`,
      { file },
    );
  }
  return parseYamlSource(file, text);
}

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const [first] = doc.errors;
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new TopologyError('ERR_SCENARIO_YAML', `not valid YAML: ${first.message.split('\n')[0]}`, {
      file,
      line,
      column: col,
    });
  }
  return {
    file,
    data: doc.toJS() ?? {},
    locate: (path, options) => locateIn(doc, lineCounter, file, path, options?.exact ?? false),
  };
}

function locateIn(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  path: FieldPath,
  exact: boolean,
): SourceLocation | undefined {
  // Walk up the path until a node exists: a missing field is reported where its parent is.
  for (let depth = path.length; depth >= (exact ? path.length : 0); depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { file, line, column: col, field: formatField(path) };
    }
  }
  return undefined;
}
