import { AllocationContention } from '../src/domain/allocation';

/**
 * Runs an allocation attempt again while it fails with AllocationContention (it met claims still in flight past
 * their settle window), as the activity's retry policy has Temporal do; any other failure is thrown.
 */
export async function retriedOnContention<T>(attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof AllocationContention)) throw error;
    }
  }
}
