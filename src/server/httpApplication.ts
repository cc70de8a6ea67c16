import { Admission } from '../bookings/admission';
import { BookingClient } from '../bookings/client';
import { BookingEraser } from '../bookings/erasure';
import { CallEventRecorder } from '../calls/callEvents';
import { CallRouter } from '../calls/callRouter';
import { OutOfSessionCalls } from '../calls/outOfSession';
import { PinCalls } from '../calls/pinCalls';
import { PinHoldings } from '../store/pinHoldings';
import { PlatformAsk } from '../calls/platformAsk';
import { announceTurnedAway } from '../calls/turnedAway';
import { EndedPairings } from '../store/endedPairings';
import type { Config } from '../config';
import { BookingList } from '../bookings/bookingList';
import { BookingEventsClient } from '../events/eventsClient';
import { createApp } from '../http/app';
import type { Logger } from '../logging/logger';
import { pingDatabase, type Database } from '../store/database';
import { CallRecords, SessionBatcher } from '../store/callRecords';
import { CallRoutes } from '../store/callRoutes';
import { MongoAllocationStore } from '../store/allocationStore';
import { NumberSync } from '../numbers/numberSync';
import { NumberPool } from '../store/numberPool';
import { OperationsSummaryService } from '../operations/operationsSummary';
import { OperationsView } from '../store/operationsView';
import { creationLimit, metricsRegistry, observeServiceFigures } from '../metrics/metrics';
import { ServiceFigureQueries } from '../store/serviceFigures';
import { STORE_FIGURES_DEFAULTS } from '../metrics/storeFigures';
import { pingTemporal } from '../temporal/connection';
import { EncryptionCodec } from '../temporal/payloadEncryption';
import { TemporalReachability } from '../temporal/reachability';
import type { Client } from '@temporalio/client';

/** Wires the HTTP application from its parts; shared by the server process and the tests. */
export function createHttpApplication(config: Config, deps: { database: Database; temporal: Client; logger: Logger }) {
  const routes = new CallRoutes(deps.database.collections);
  const callRecords = new CallRecords(deps.database.collections);
  const temporalReachability = new TemporalReachability(() => pingTemporal(deps.temporal, 2_000), {
    onChange: (reachable) => {
      if (!reachable) {
        deps.logger.warn('Temporal cannot be reached; bookings are answered 503 at once until it answers');
        return;
      }
      deps.logger.info('Temporal answers again; bookings are served');
      // The call events stored meanwhile go to their bookings now, not at the next redelivery round.
      redeliverCallEvents();
    },
  });
  const bookings = new BookingClient(deps.temporal, config.temporalTaskQueue, temporalReachability);
  const sessions = new SessionBatcher(callRecords, (error, count) =>
    deps.logger.warn({ err: error, sessions: count }, 'call sessions not recorded'),
  );
  const endedPairings = new EndedPairings(deps.database.collections.endedPairings, config.encryptionKeys);
  const outOfSession = new OutOfSessionCalls(config.outOfSession, {
    endedPairings,
    ask: new PlatformAsk({
      timeoutMs: config.outOfSession.askTimeoutMs,
      secrets: config.events.secrets,
      includeNumbers: config.events.includeNumbers,
    }),
    storeTimeoutMs: config.callActionStoreTimeoutMs,
    logger: deps.logger,
  });
  const bookingEvents = new BookingEventsClient(deps.temporal, config.temporalTaskQueue);
  const callRouter = new CallRouter(
    routes,
    sessions,
    {
      unknownCallerNotice: config.unknownCallerNotice,
      voiceProfile: config.voiceProfile,
      storeTimeoutMs: config.callActionStoreTimeoutMs,
    },
    deps.logger,
    outOfSession,
    announceTurnedAway(bookingEvents, config.events.includeNumbers, deps.logger),
    new PinCalls(
      new PinHoldings(deps.database.collections, undefined, config.encryptionKeys),
      {
        voiceProfile: config.voiceProfile,
        notice: config.unknownCallerNotice,
        storeTimeoutMs: config.callActionStoreTimeoutMs,
      },
      deps.logger,
    ),
  );
  const callEvents = new CallEventRecorder(callRecords, routes, bookings, deps.logger, {
    sessions,
    recheckAfterMs: sessions.writeWindowMs,
  });
  /** Delivers the call events stored while Temporal could not be reached; the server also runs it on a timer. */
  const redeliverCallEvents = () => {
    callEvents.deliverPending().catch((error: unknown) => deps.logger.warn({ err: error }, 'event redelivery failed'));
  };
  const numbers = new NumberPool(deps.database.collections);
  // The webhook needs no credentials; the subaccount, when known, keeps another account's snapshot out.
  const numberSync = new NumberSync(numbers, { subAccountId: config.eightByEight?.subAccountId ?? null });
  creationLimit.set(config.creationAdmission.inFlight);
  const figures = new ServiceFigureQueries(deps.database.collections);
  const stopObservingFigures = observeServiceFigures(
    {
      poolNumbers: () => figures.poolNumbers(),
      liveBookings: () => figures.liveBookings(),
      pendingCallEvents: () => figures.pendingCallEvents(),
      temporalReachable: () => temporalReachability.reachable,
    },
    STORE_FIGURES_DEFAULTS,
    (error) => deps.logger.warn({ err: error }, 'store figures for the metrics not read'),
  );
  const app = createApp({
    apiKey: config.apiKey,
    webhookSecret: config.webhookSecret,
    developmentMode: config.developmentMode,
    webhookAllowedSources: config.webhookAllowedSources,
    trustedProxies: config.trustedProxies,
    logger: deps.logger,
    readiness: { store: () => pingDatabase(deps.database), temporal: () => pingTemporal(deps.temporal) },
    numbers,
    bookings,
    creationAdmission: new Admission(config.creationAdmission, { onLimit: (limit) => creationLimit.set(limit) }),
    bookingEraser: new BookingEraser(
      bookings,
      callRecords,
      new MongoAllocationStore(deps.database.collections),
      endedPairings,
    ),
    bookingEvents,
    bookingList: new BookingList(deps.temporal, config.temporalTaskQueue),
    bookingCreation: {
      allowPlainHttp: config.events.allowPlainHttp,
      eventNumbers: config.events.includeNumbers,
      eventsUrlSet: config.events.url !== null,
      canSign: config.events.secrets.length > 0,
      platformHosts: config.events.platformHosts ?? [],
      numberFallback: config.numberFallback,
      afterEnd: {
        windowSeconds: config.outOfSession.endedBookingWindowSeconds,
        route: config.outOfSession.endedBookingRoute,
      },
    },
    callRouter,
    callEvents,
    numberSync,
    codec: {
      codec: new EncryptionCodec(config.encryptionKeys),
      token: config.codecToken,
      developmentMode: config.developmentMode,
      corsOrigins: config.codecCorsOrigins,
    },
    operations: new OperationsSummaryService({
      registry: metricsRegistry,
      view: new OperationsView(deps.database.collections),
      temporal: deps.temporal,
      taskQueue: config.temporalTaskQueue,
      storeTimeoutMs: config.callActionStoreTimeoutMs,
      onTemporalError: (error) => deps.logger.warn({ err: error }, 'operations summary: Temporal visibility failed'),
    }),
    metricsToken: config.metricsToken,
  });
  return {
    app,
    bookings,
    callEvents,
    redeliverCallEvents,
    callRecords,
    sessions,
    temporalReachability,
    stopObservingFigures,
  };
}
