/**
 * The ceiling of the HTTP stack on this machine: the same Koa and JSON body parser as the minimal endpoint, and
 * a fixed callflow as the answer. No store at all.
 */
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';

const CALLFLOW = { callflow: [{ action: 'makeCall', params: { source: '+6561000000', destination: '+6590000000' } }] };

const app = new Koa();
app.use(bodyParser({ enableTypes: ['json'], detectJSON: () => true }));
app.use((ctx) => {
  ctx.body = CALLFLOW;
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.stdout.write(`listening ${process.env.PORT}\n`),
);
server.keepAliveTimeout = 65_000;
process.once('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  process.exit(0);
});
