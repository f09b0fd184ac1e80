import { HarnessError } from '../../common/index.ts';

export type TopologyErrorCode =
  | 'ERR_SCENARIO_READ'
  | 'ERR_SCENARIO_YAML'
  | 'ERR_SCENARIO_INVALID'
  | 'ERR_SCENARIO_EXTENDS'
  | 'ERR_SCENARIO_NOT_FOUND'
  /** A file run as a scenario expects nothing of any server. */
  | 'ERR_SCENARIO_NO_EXPECT';

/** Where a problem is: the file, and the line and column when known. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** Dotted field path, e.g. `nodes.claude-worker.firewall.outbound[0].port`. */
  field?: string;
}

/** A scenario or topology file that cannot be used. The message names file, line and field. */
export class TopologyError extends HarnessError<TopologyErrorCode> {
  readonly location: SourceLocation | undefined;

  constructor(code: TopologyErrorCode, message: string, location?: SourceLocation, options?: ErrorOptions) {
    super(code, location ? `${formatLocation(location)}: ${message}` : message, options);
    this.name = 'TopologyError';
    this.location = location;
  }
}

export function formatLocation({ file, line, column, field }: SourceLocation): string {
  const position = line === undefined ? file : `${file}:${line}${column === undefined ? '' : `:${column}`}`;
  return field ? `${position}: ${field}` : position;
}
