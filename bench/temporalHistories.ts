import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { round, summarize, type Summary } from './measure';

/**
 * Temporal's share of a booking, read from the histories of the workflow runs a benchmark made: events per run (up
 * to the answer and in all), workflow tasks, activity tasks and their attempts, local activities, and how long the
 * allocation took inside the worker (an activity's start to its completion as the history records them, or a local
 * activity's marker: scheduled to completed).
 */

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface Timestamp {
  seconds?: number | { toNumber(): number } | string | null;
  nanos?: number | null;
}

const msOf = (time: Timestamp | null | undefined): number => {
  if (!time) return NaN;
  const seconds =
    typeof time.seconds === 'object' && time.seconds !== null ? time.seconds.toNumber() : Number(time.seconds ?? 0);
  return seconds * 1000 + (time.nanos ?? 0) / 1e6;
};

/** One run's history, counted. */
export interface RunCounts {
  workflowId: string;
  runId: string;
  status: string;
  events: number;
  /** The event id of the first update's completion (the booking's answer), or null when the run never answered. */
  eventsToAnswer: number | null;
  workflowTasks: number;
  workflowTasksFailed: number;
  /** By activity type: tasks scheduled, and attempts (the last attempt's number, summed over the tasks). */
  activities: Record<string, { tasks: number; attempts: number; failed: number; ms: number[] }>;
  /** By local activity type: markers recorded, and attempts. */
  localActivities: Record<string, { count: number; attempts: number; ms: number[] }>;
  timers: number;
  searchAttributeUpserts: number;
}

function countRun(workflowId: string, runId: string, status: string, events: HistoryEvent[]): RunCounts {
  const counts: RunCounts = {
    workflowId,
    runId,
    status,
    events: events.length,
    eventsToAnswer: null,
    workflowTasks: 0,
    workflowTasksFailed: 0,
    activities: {},
    localActivities: {},
    timers: 0,
    searchAttributeUpserts: 0,
  };
  const scheduled = new Map<number, string>();
  // A local activity's marker times it from the start of the workflow task it ran in (the SDK core's clock).
  let workflowTaskStartedAt = NaN;
  const started = new Map<number, { attempt: number; at: number }>();
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        workflowTaskStartedAt = msOf(event.eventTime as Timestamp);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        counts.workflowTasks += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        counts.workflowTasks += 1;
        counts.workflowTasksFailed += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
        counts.eventsToAnswer ??= Number(event.eventId);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        scheduled.set(Number(event.eventId), type);
        (counts.activities[type] ??= { tasks: 0, attempts: 0, failed: 0, ms: [] }).tasks += 1;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attributes = event.activityTaskStartedEventAttributes;
        const type = scheduled.get(Number(attributes?.scheduledEventId));
        if (type === undefined) break;
        const attempt = attributes?.attempt ?? 1;
        counts.activities[type]!.attempts += attempt;
        started.set(Number(attributes?.scheduledEventId), { attempt, at: msOf(event.eventTime as Timestamp) });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const attributes =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes ??
          event.activityTaskCanceledEventAttributes;
        const scheduledId = Number(attributes?.scheduledEventId);
        const type = scheduled.get(scheduledId);
        if (type === undefined) break;
        const entry = counts.activities[type]!;
        const start = started.get(scheduledId);
        if (event.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) entry.failed += 1;
        // An activity that timed out before any attempt started has no start.
        else if (start) entry.ms.push(msOf(event.eventTime as Timestamp) - start.at);
        break;
      }
      case EventType.EVENT_TYPE_MARKER_RECORDED: {
        const marker = localActivityMarker(event, workflowTaskStartedAt);
        if (!marker) break;
        const entry = (counts.localActivities[marker.type] ??= { count: 0, attempts: 0, ms: [] });
        entry.count += 1;
        entry.attempts += marker.attempt;
        if (Number.isFinite(marker.ms)) entry.ms.push(marker.ms);
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED:
        counts.timers += 1;
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        counts.searchAttributeUpserts += 1;
        break;
    }
  }
  return counts;
}

/**
 * The SDK core's record of a local activity: its type, attempt, and run time. The core writes its completion time
 * as the start of the workflow task that ran it plus the activity's run time (external_data.proto), so the run
 * time is what lies past that start; a local activity retried after a backoff timer is timed from its first
 * schedule instead.
 */
function localActivityMarker(
  event: HistoryEvent,
  workflowTaskStartedAt: number,
): { type: string; attempt: number; ms: number } | null {
  const attributes = event.markerRecordedEventAttributes;
  if (attributes?.markerName !== 'core_local_activity') return null;
  const payload = attributes.details?.data?.payloads?.[0];
  if (!payload?.data) return { type: '?', attempt: 1, ms: NaN };
  try {
    const data = JSON.parse(Buffer.from(payload.data).toString('utf8')) as Record<string, unknown>;
    const time = (value: unknown): number => {
      if (typeof value === 'string') return Date.parse(value);
      return msOf(value as Timestamp);
    };
    const completed = time(data.complete_time ?? data.completeTime);
    const backoff = data.backoff ?? null;
    const from = backoff ? time(data.original_schedule_time ?? data.originalScheduleTime) : workflowTaskStartedAt;
    return {
      type: String(data.activity_type ?? data.activityType ?? '?'),
      attempt: Number(data.attempt ?? 1),
      ms: completed - from,
    };
  } catch {
    return { type: '?', attempt: 1, ms: NaN };
  }
}

/** The runs of a benchmark's task queue, summed up per run and per booking. */
export interface HistoryFigures {
  /** Runs listed on the task queue, and the distinct workflows (bookings) they belong to. */
  runs: number;
  workflows: number;
  runsPerWorkflow: number;
  /** Runs whose histories were read (all of them, or an even sample); of those, the ones that never answered. */
  sampled: number;
  /** Left out of the figures below. */
  unanswered: number;
  statuses: Record<string, number>;
  perRun: {
    events: Summary;
    eventsToAnswer: Summary;
    workflowTasks: number;
    workflowTasksFailed: number;
    activityTasks: Record<string, number>;
    activityAttempts: Record<string, number>;
    activityFailures: Record<string, number>;
    localActivities: Record<string, number>;
    localActivityAttempts: Record<string, number>;
    timers: number;
    searchAttributeUpserts: number;
  };
  /** Per booking (all its runs): activity attempts of each type, local included. */
  attemptsPerBooking: Record<string, number>;
  /** Activity (or local activity) time per completed attempt, by type, ms. */
  activityMs: Record<string, Summary>;
  /** The same, by type and the status of its run (a refused booking's run has failed). */
  activityMsByRunStatus: Record<string, Summary>;
}

/**
 * Reads the histories of the runs on `taskQueue` (at most `sample` of them, evenly spread) and sums them up. A
 * client of its own, without the service's codec: only event types, counts and times are read, never payloads.
 */
export async function historyFigures(
  temporalAddress: string,
  taskQueue: string,
  options: { sample: number; concurrency?: number; workflowType?: string } = { sample: 500 },
): Promise<HistoryFigures> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection });
    const query =
      `TaskQueue = '${taskQueue}'` + (options.workflowType ? ` AND WorkflowType = '${options.workflowType}'` : '');
    const executions: { workflowId: string; runId: string; status: string }[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
      executions.push({ workflowId: execution.workflowId, runId: execution.runId, status: execution.status.name });
    }
    const workflows = new Set(executions.map((e) => e.workflowId)).size;
    const step = Math.max(1, executions.length / Math.max(1, options.sample));
    const chosen: typeof executions = [];
    for (let i = 0; Math.floor(i) < executions.length && chosen.length < options.sample; i += step) {
      chosen.push(executions[Math.floor(i)]!);
    }
    const runs: RunCounts[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 8 }, async () => {
        while (next < chosen.length) {
          const execution = chosen[next++]!;
          const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
          runs.push(countRun(execution.workflowId, execution.runId, execution.status, history.events ?? []));
        }
      }),
    );
    return sumRuns(runs, executions.length, workflows);
  } finally {
    await connection.close();
  }
}

function sumRuns(allRuns: RunCounts[], listed: number, workflows: number): HistoryFigures {
  // A run started by a request cut off at the load's end may never have had a task: it says nothing of a booking.
  const runs = allRuns.filter((run) => run.eventsToAnswer !== null);
  const perRun = (value: number) => round(value / Math.max(1, runs.length), 2);
  const sumBy = (pick: (run: RunCounts) => Record<string, number>) => {
    const total: Record<string, number> = {};
    for (const run of runs)
      for (const [key, value] of Object.entries(pick(run))) total[key] = (total[key] ?? 0) + value;
    return total;
  };
  const mapValues = (record: Record<string, number>, f: (value: number) => number) =>
    Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
  const pickActivities = (field: 'tasks' | 'attempts' | 'failed') =>
    sumBy((run) => Object.fromEntries(Object.entries(run.activities).map(([type, entry]) => [type, entry[field]])));
  const pickLocal = (field: 'count' | 'attempts') =>
    sumBy((run) =>
      Object.fromEntries(Object.entries(run.localActivities).map(([type, entry]) => [type, entry[field]])),
    );
  const attempts = { ...pickActivities('attempts') };
  for (const [type, count] of Object.entries(pickLocal('attempts'))) attempts[type] = (attempts[type] ?? 0) + count;
  // Per booking: the sampled runs stand for all the runs, and runs per booking scale them to bookings.
  const runsPerWorkflow = listed / Math.max(1, workflows);
  const activityMs: Record<string, number[]> = {};
  const byRunStatus: Record<string, number[]> = {};
  for (const run of runs) {
    for (const [type, entry] of [...Object.entries(run.activities), ...Object.entries(run.localActivities)]) {
      (activityMs[type] ??= []).push(...entry.ms);
      (byRunStatus[`${type} (${run.status})`] ??= []).push(...entry.ms);
    }
  }
  const summaries = (record: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(record).map(([key, values]) => [key, roundSummary(summarize(values))]));
  const statuses: Record<string, number> = {};
  for (const run of allRuns) statuses[run.status] = (statuses[run.status] ?? 0) + 1;
  return {
    runs: listed,
    workflows,
    runsPerWorkflow: round(runsPerWorkflow, 3),
    sampled: allRuns.length,
    unanswered: allRuns.length - runs.length,
    statuses,
    perRun: {
      events: roundSummary(summarize(runs.map((run) => run.events))),
      eventsToAnswer: roundSummary(
        summarize(runs.map((run) => run.eventsToAnswer).filter((n): n is number => n !== null)),
      ),
      workflowTasks: perRun(runs.reduce((sum, run) => sum + run.workflowTasks, 0)),
      workflowTasksFailed: perRun(runs.reduce((sum, run) => sum + run.workflowTasksFailed, 0)),
      activityTasks: mapValues(pickActivities('tasks'), perRun),
      activityAttempts: mapValues(pickActivities('attempts'), perRun),
      activityFailures: mapValues(pickActivities('failed'), perRun),
      localActivities: mapValues(pickLocal('count'), perRun),
      localActivityAttempts: mapValues(pickLocal('attempts'), perRun),
      timers: perRun(runs.reduce((sum, run) => sum + run.timers, 0)),
      searchAttributeUpserts: perRun(runs.reduce((sum, run) => sum + run.searchAttributeUpserts, 0)),
    },
    attemptsPerBooking: mapValues(attempts, (value) => round((value / Math.max(1, runs.length)) * runsPerWorkflow, 2)),
    activityMs: summaries(activityMs),
    activityMsByRunStatus: summaries(byRunStatus),
  };
}

function roundSummary(summary: Summary): Summary {
  return {
    count: summary.count,
    mean: round(summary.mean, 2),
    p50: round(summary.p50, 2),
    p95: round(summary.p95, 2),
    p99: round(summary.p99, 2),
    max: round(summary.max, 2),
  };
}
