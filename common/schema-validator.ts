import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';

/**
 * A JSON Schema validator for an SDK `Server` or `Client` that builds its Ajv instance on first
 * use. The SDK builds one per `Server`/`Client` up front (about a millisecond of CPU and a few
 * hundred kB of garbage each); a stateless MCP server makes a `Server` per request, and the worker
 * a `Client` per MCP server, while only elicitation (servers) and tools with an `outputSchema`
 * (clients) ever validate.
 *
 * @example
 * const server = new McpServer({ name: 'monitoring-mcp', version: '1.0.0' }, { jsonSchemaValidator: lazySchemaValidator() });
 */
export function lazySchemaValidator(): jsonSchemaValidator {
  let validator: AjvJsonSchemaValidator | undefined;
  return {
    getValidator(schema) {
      validator ??= new AjvJsonSchemaValidator();
      return validator.getValidator(schema);
    },
  };
}
