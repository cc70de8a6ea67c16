/** The OpenAPI 3.1 description of Maskline's HTTP API (served at /openapi.json). */
export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Maskline', version: '0.1.0' },
  paths: {},
} as const;
