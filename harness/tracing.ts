import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '../src/tracing/tracing';

/**
 * Tracing into memory, for a test file that imports this first: the HTTP instrumentation must patch `http` before
 * the stack's modules require it.
 */
export const spans = new InMemorySpanExporter();
export const tracing = startTracing({ serviceName: 'maskline-test', exporter: spans });
