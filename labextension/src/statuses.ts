/** The execution statuses of polynb's journal (polynb/journal.py), in its order; a test keeps the two alike. */
export const STATUSES = ['received', 'running', 'succeeded', 'failed', 'interrupted', 'cancelled', 'timed out'];

/** Not ended yet: its output still grows, and it can be cancelled. */
export const OPEN_STATUSES = ['received', 'running'];

/** Ended without a result: shown and counted as failures. */
export const UNSUCCESSFUL = ['failed', 'interrupted', 'cancelled', 'timed out'];
