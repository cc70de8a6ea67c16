import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

/**
 * Traces are off unless the standard OpenTelemetry variables ask for them: an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER=otlp, and not
 * OTEL_SDK_DISABLED=true. The exporter reads the rest (headers, protocol options) from the same variables.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER === 'otlp',
  );
}

let plugin: OpenTelemetryPlugin | null = null;

/**
 * Starts tracing in this process: HTTP server and client spans, and Temporal's (the client's update-with-start,
 * the workflow, its activities) through @temporalio/interceptors-opentelemetry's plugin, which the Temporal client
 * and the worker take from temporalPlugins(). Must run before `http` is first required (see register.ts).
 */
export function startTracing(options: { serviceName: string; exporter?: SpanExporter }) {
  const resource = new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME ?? options.serviceName });
  const spanProcessor: SpanProcessor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    // Incoming requests only: our outgoing HTTP (booking events, 8x8's API) is traced by its caller's span.
    instrumentations: [new HttpInstrumentation({ disableOutgoingRequestInstrumentation: true })],
  });
  plugin = new OpenTelemetryPlugin({ resource, spanProcessor });
  return { shutdown: () => provider.shutdown() };
}

/** The Temporal plugins of this process: OpenTelemetry's when tracing was started, else none. */
export function temporalPlugins(): OpenTelemetryPlugin[] {
  return plugin ? [plugin] : [];
}
