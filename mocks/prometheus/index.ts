export { startPrometheus } from './server.ts';
export type { PrometheusOptions, StartedPrometheus } from './server.ts';
export { prometheusHandlers } from './handlers.ts';
export type { PrometheusHandlersOptions } from './handlers.ts';
export {
  loadPrometheusFixture,
  parsePrometheusFixture,
  PrometheusFixtureSchema,
  defaultPrometheusFixturePath,
} from './fixture.ts';
export type { PrometheusFixture, FixtureSeries, FixtureRuleGroup, FixtureAlertingRule, FixtureRecordingRule } from './fixture.ts';
export { queryPrometheus, getRules, listMetrics } from './client.ts';
export type {
  PrometheusQueryData,
  PrometheusRuleGroup,
  PrometheusRule,
  PrometheusAlertingRule,
  PrometheusRecordingRule,
  PrometheusAlert,
  PrometheusRequestOptions,
  QueryPrometheusOptions,
  GetRulesOptions,
} from './client.ts';
export { PrometheusError } from './errors.ts';
export type { PrometheusErrorCode, PrometheusErrorType } from './errors.ts';
