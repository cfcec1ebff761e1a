// OpenTelemetry traces. Off unless an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): then every binary exports its spans there over OTLP/HTTP
// (protobuf by default, JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json), sampled as
// OTEL_TRACES_SAMPLER says, and W3C traceparent/tracestate cross every hop. Off, nothing is
// installed: the gateway adds no middleware and the interceptors return at their first line, so
// tracing costs nothing measurable (BENCHMARKS.md). Spans: the gateway's request (tracing.ts in
// gateway/middleware), each RPC on both sides (rpc.ts), Redis commands (lib/redis/redis.ts) and
// Prisma's operations and queries (@prisma/instrumentation).
import { context, propagation, type Span, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { PrismaInstrumentation } from "@prisma/instrumentation";
import { z } from "zod";
import pkg from "../../package.json" with { type: "json" };
import { count } from "../config/config.ts";

const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
const endpoint = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional();

/** tracingEnv is the standard OpenTelemetry variables this project reads, validated like the rest. */
export const tracingEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(["http/protobuf", "http/json"], "must be http/protobuf or http/json").default("http/protobuf"),
  OTEL_SERVICE_NAME: z.string().min(1).max(128).optional(),
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS, `must be one of ${SAMPLERS.join(", ")}`).default("parentbased_always_on"),
  OTEL_TRACES_SAMPLER_ARG: z.coerce
    .number("must be a number")
    .min(0, "must be between 0 and 1")
    .max(1, "must be between 0 and 1")
    .optional(),
  /** OTEL_BSP_SCHEDULE_DELAY (ms, the SDK's default 5000): how long spans wait to be sent in a batch. */
  OTEL_BSP_SCHEDULE_DELAY: count.optional(),
};

export type TracingEnv = z.output<z.ZodObject<typeof tracingEnv>>;

/** tracer makes every span of this project (a no-op until startTracing installs a provider). */
export const tracer = trace.getTracer("bun-api-starter", pkg.version);

let enabled = false;

/** tracingEnabled tells the instrumentation whether to make spans at all. */
export function tracingEnabled(): boolean {
  return enabled;
}

/** Tracing is what startTracing set up: describe() for the banner, shutdown() flushes the last spans. */
export type Tracing = { enabled: boolean; describe(): string; shutdown(): Promise<void> };

/** startTracing installs the SDK when an endpoint is set (once per process); the service name is
 * OTEL_SERVICE_NAME, else the binary's own. */
export function startTracing(serviceName: string, env: TracingEnv): Tracing {
  const target = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!target) return { enabled: false, describe: () => "off (set OTEL_EXPORTER_OTLP_ENDPOINT)", shutdown: async () => {} };
  // The exporters read the endpoint variables themselves (adding /v1/traces to the generic one).
  const exporter: SpanExporter = env.OTEL_EXPORTER_OTLP_PROTOCOL === "http/json" ? new JsonExporter() : new ProtobufExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? serviceName, "service.version": pkg.version }),
    sampler: samplerOf(env),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY })],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const prisma = new PrismaInstrumentation();
  prisma.setTracerProvider(provider);
  prisma.enable();
  enabled = true;
  return {
    enabled: true,
    describe: () => `OTLP ${env.OTEL_EXPORTER_OTLP_PROTOCOL} to ${target}, sampler ${env.OTEL_TRACES_SAMPLER}`,
    async shutdown() {
      enabled = false;
      await provider.shutdown().catch(() => {}); // flushes what is batched; a collector that is down loses it
    },
  };
}

function samplerOf(env: TracingEnv): Sampler {
  const ratio = new TraceIdRatioBasedSampler(env.OTEL_TRACES_SAMPLER_ARG ?? 1);
  switch (env.OTEL_TRACES_SAMPLER) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratio;
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** activeTraceIds names the span a log line is written in, for the logger. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!enabled) return undefined;
  const span: Span | undefined = trace.getActiveSpan();
  const ids = span?.spanContext();
  return ids && trace.isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
}

/** headerGetter and headerSetter let the W3C propagator read and write Fetch Headers (HTTP and RPC metadata). */
export const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => [...carrier.keys()],
};
export const headerSetter = { set: (carrier: Headers, key: string, value: string) => carrier.set(key, value) };
