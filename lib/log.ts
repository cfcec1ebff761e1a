// Structured JSON logs, one object per line on stderr. Callers pass fields, never secrets: there is
// no request-body logging anywhere, and redact() guards the few fields that could carry one. A line
// written while a request is served carries its request_id (lib/request-context.ts).
import { currentRequest } from "./request-context.ts";
import { activeTraceIds } from "./tracing/tracing.ts";

type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEYS = /pass(word)?|secret|token|hash|authorization|cookie/i;

export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void> & {
  child(fields: Record<string, unknown>): Logger;
  /** enabled says whether lines at this level are written, for callers that would do work to make one. */
  enabled(at: Level): boolean;
};

/** createLogger writes JSON lines at or above level (LOG_LEVEL, default info). */
export function createLogger(
  base: Record<string, unknown>,
  level: Level = (process.env.LOG_LEVEL as Level) in order ? (process.env.LOG_LEVEL as Level) : "info",
): Logger {
  const write =
    (at: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (order[at] < order[level]) return;
      const request = currentRequest();
      const line = {
        time: new Date().toISOString(),
        level: at,
        ...base,
        msg,
        ...(request && { request_id: request.requestId }),
        ...activeTraceIds(),
        ...redact(fields),
      };
      process.stderr.write(`${JSON.stringify(line)}\n`);
    };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (fields) => createLogger({ ...base, ...fields }, level),
    enabled: (at) => order[at] >= order[level],
  };
}

/** redact replaces values under secret-looking keys and turns errors into their name and message. */
export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [
      key,
      SECRET_KEYS.test(key) ? "[redacted]" : value instanceof Error ? { name: value.name, message: value.message } : value,
    ]),
  );
}
