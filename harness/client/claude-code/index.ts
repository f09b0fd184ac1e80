export { claudeCodeClient } from './claude-code-client.ts';
export type { ClaudeCodeClientOptions } from './claude-code-client.ts';
export { resolveClaudeBinary } from './claude-binary.ts';
export type { ClaudeBinary } from './claude-binary.ts';
export { runClaudeUntilInit, canIsolateNetwork } from './claude-process.ts';
export type { ClaudeInitLine, ClaudeMcpLogLine, ClaudeRun, ClaudeRunInput } from './claude-process.ts';
export { claudeReport, claudeServerKey } from './claude-report.ts';
export type { ClaudeReportInput } from './claude-report.ts';
