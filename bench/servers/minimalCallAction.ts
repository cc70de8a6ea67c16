/**
 * The floor of this design's cost: a Koa endpoint that reads the webhook's JSON body, does the one indexed
 * lookup call routing needs (the claim `<caller>|<VN>` by _id) and answers the callflow. No validation, no
 * authentication, no logging, no call record: what is left if Maskline did nothing else.
 *
 * With BENCH_RECORD_SESSION=1 it also writes the call-session record Maskline writes for a connected call (an
 * upsert by session id, off the answer's path, as src/calls/callRouter.ts does), to show what that write costs.
 */
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import { connectDatabase } from '../../src/store/database';

const NOTICE = {
  callflow: [
    { action: 'say', params: { text: 'Sorry.', voiceProfile: 'en-US-ZiraRUS', repetition: 1, speed: 1 } },
    { action: 'hangup' },
  ],
};

async function main() {
  const database = await connectDatabase(process.env.MONGODB_URI ?? '');
  const { claims, callSessions } = database.collections;
  const recordSessions = process.env.BENCH_RECORD_SESSION === '1';
  const app = new Koa();
  app.use(bodyParser({ enableTypes: ['json'], detectJSON: () => true }));
  app.use(async (ctx) => {
    const payload = (ctx.request.body as { payload: { source: string; destination: string; sessionId: string } })
      .payload;
    const caller = `+${payload.source}`;
    const virtualNumber = `+${payload.destination}`;
    const claim = await claims.findOne(
      { _id: `${caller}|${virtualNumber}` },
      { projection: { otherParty: 1, bookingId: 1, role: 1 } },
    );
    if (claim && recordSessions) {
      const session = {
        _id: payload.sessionId,
        bookingId: claim.bookingId,
        virtualNumber,
        callerRole: claim.role,
        callerMasked: `${caller.slice(0, 3)}****${caller.slice(-4)}`,
        startedAt: new Date(),
      };
      callSessions.updateOne({ _id: session._id }, { $setOnInsert: session }, { upsert: true }).catch(() => undefined);
    }
    ctx.body = claim
      ? { callflow: [{ action: 'makeCall', params: { source: virtualNumber, destination: claim.otherParty } }] }
      : NOTICE;
  });
  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () =>
    process.stdout.write(`listening ${process.env.PORT}\n`),
  );
  server.keepAliveTimeout = 65_000;
  process.once('SIGTERM', () => {
    server.close();
    server.closeIdleConnections();
    void database.close().then(() => process.exit(0));
  });
}

void main();
