/**
 * One line for a client error. The client nests errors (an operation that failed after retries holds each
 * attempt's error, which may hold the per-partition errors of a response); the innermost distinct messages are
 * what says why, e.g. "Cannot connect to any broker." rather than "Producing messages failed.".
 */
export function describeError(error: unknown): string {
  const leaves: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    const nested = (value as { errors?: unknown[] } | undefined)?.errors;
    if (Array.isArray(nested) && nested.length > 0 && depth < 5) for (const inner of nested) visit(inner, depth + 1);
    else leaves.push(value instanceof Error ? value.message : String(value));
  };
  visit(error, 0);
  const distinct = [...new Set(leaves.map((message) => message.trim()).filter(Boolean))];
  const top = error instanceof Error ? error.message : String(error);
  return distinct.length === 0 || (distinct.length === 1 && distinct[0] === top) ? top : `${top} (${distinct.slice(0, 3).join('; ')})`;
}

/** Kafka error codes that are the caller's doing, not an outage, and the status that says so. */
const STATUS_BY_KAFKA_ERROR: Readonly<Record<string, number>> = {
  MESSAGE_TOO_LARGE: 413,
  RECORD_LIST_TOO_LARGE: 413,
  TOPIC_AUTHORIZATION_FAILED: 403,
  GROUP_AUTHORIZATION_FAILED: 403,
  CLUSTER_AUTHORIZATION_FAILED: 403,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 403,
  INVALID_TOPIC_EXCEPTION: 400,
  INVALID_RECORD: 400,
  POLICY_VIOLATION: 400,
};

/** The status of a failed Kafka operation: 413/403/400 for the errors above anywhere in the chain, else 503. */
export function kafkaErrorStatus(error: unknown): number {
  const visit = (value: unknown, depth: number): number | undefined => {
    const apiId = (value as { apiId?: unknown } | undefined)?.apiId;
    if (typeof apiId === 'string' && STATUS_BY_KAFKA_ERROR[apiId]) return STATUS_BY_KAFKA_ERROR[apiId];
    const nested = (value as { errors?: unknown[] } | undefined)?.errors;
    if (!Array.isArray(nested) || depth >= 5) return undefined;
    for (const inner of nested) {
      const status = visit(inner, depth + 1);
      if (status) return status;
    }
    return undefined;
  };
  return visit(error, 0) ?? 503;
}

/**
 * Whether Kafka told the member to join again (the group is rebalancing, the member id is unknown or stale):
 * a state of the group that passes, not a failure of the request.
 */
export function needsRejoin(error: unknown): boolean {
  const visit = (value: unknown, depth: number): boolean => {
    if ((value as { needsRejoin?: unknown } | undefined)?.needsRejoin === true) return true;
    const nested = (value as { errors?: unknown[] } | undefined)?.errors;
    return Array.isArray(nested) && depth < 5 && nested.some((inner) => visit(inner, depth + 1));
  };
  return visit(error, 0);
}
