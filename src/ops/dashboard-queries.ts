/**
 * Query schemas of the routes only the dashboard needs, apart from the plugin that serves them
 * so the OpenAPI document can read them without importing that plugin.
 */

/** `GET /ops/traffic`: how many minutes back, up to a day. */
export const TRAFFIC_QUERY = {
  type: 'object', additionalProperties: false,
  properties: { minutes: { type: 'integer', minimum: 1, maximum: 1440, description: 'Minutes back, this one included. @default 60' } },
} as const;
