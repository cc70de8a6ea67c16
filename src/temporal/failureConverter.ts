/**
 * Loaded by path (DataConverter.failureConverterPath) by our clients and bundled into the workflow sandbox, so it
 * imports nothing but @temporalio/common. Messages and stack traces travel as a payload, which the codec encrypts.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
