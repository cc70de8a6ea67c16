import { createLogger } from './logger';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * How a process whose main failed ends: an error of the `plain` classes (a bad configuration) as its one line on
 * stderr, any other as a fatal log line. Exit rather than linger: connections opened before the failure would keep
 * a process alive that does no work, and a supervisor (Docker, npm start) only restarts or reports one that has
 * stopped.
 */
export function exitOnFailure(name: string, message: string, plain: readonly ErrorClass[]) {
  return (error: unknown): never => {
    if (plain.some((kind) => error instanceof kind)) {
      console.error((error as Error).message);
    } else {
      createLogger({ name }).fatal({ err: error }, message);
    }
    process.exit(1);
  };
}
