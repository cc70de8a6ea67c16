import path from 'node:path';
import { startTracing, tracingRequested } from './tracing';

// Imported first by the processes' entry points: the HTTP instrumentation patches `http` as Koa requires it.
if (tracingRequested(process.env)) {
  const role = path.basename(path.dirname(process.argv[1] ?? ''));
  startTracing({ serviceName: role === 'worker' ? 'maskline-worker' : 'maskline-http' });
}
