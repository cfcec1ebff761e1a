/**
 * schema-engine stands in for Prisma's native `schema-engine` binary, so the Prisma CLI (`prisma migrate
 * dev/deploy/status/reset/diff`, `db push/pull/execute`) works where that binary can't be had: offline
 * and air-gapped installs, where the CLI's first step (downloading it from Prisma's CDN) fails, and
 * slim images that should carry no native binaries (and no OpenSSL detection trouble).
 *
 * The CLI finds it through PRISMA_SCHEMA_ENGINE_BINARY (prisma.config.ts sets it) and talks to it as to
 * the native engine: JSON-RPC, one message per line on stdin/stdout, JSON log lines on stderr, plus the
 * `--version` and `cli can-connect-to-database|create-database` one-shot commands. Behind that sits the
 * WebAssembly build of the same engine that ships inside the `prisma` package (so its version always
 * matches the CLI), with its wasm-bindgen JS glue from the exactly pinned @prisma/schema-engine-wasm,
 * reaching PostgreSQL through @prisma/adapter-pg (see postgres.ts for the adapter's gaps we close).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import { createAdapterFactory, createDatabase, databaseName, runOn } from "./postgres.ts";

type Engine = glue.SchemaEngine;
type Message = { id?: number | string; method?: string; params?: unknown; result?: unknown; error?: unknown };
type Datasource = { url?: string; shadowDatabaseUrl?: string };

// Methods whose JSON-RPC params and result are exactly the Wasm engine's input and output.
const passThrough = [
  "applyMigrations",
  "createMigration",
  "dbExecute",
  "devDiagnostic",
  "diagnoseMigrationHistory",
  "diff",
  "ensureConnectionValidity",
  "evaluateDataLoss",
  "introspect",
  "introspectSql",
  "markMigrationApplied",
  "markMigrationRolledBack",
  "reset",
  "schemaPush",
] as const satisfies ReadonlyArray<keyof Engine>;

/** parseArgs reads the native engine's command line. */
function parseArgs(argv: string[]) {
  const datamodels: string[] = [];
  let datasource: Datasource = {};
  let cli: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--datamodels") datamodels.push(argv[++i] ?? "");
    else if (arg === "--datasource") datasource = JSON.parse(argv[++i] ?? "{}") as Datasource;
    else if (arg === "cli") cli = argv[++i];
    else if (arg === "--version" || arg === "-V") cli = "--version";
    else if (arg === "--enabled-preview-features" || arg === "--extension-types") i++;
  }
  return { datamodels, datasource, cli };
}

let panicMessage: string | undefined;

/** loadEngineModule instantiates the prisma package's own schema_engine_bg.wasm with the glue. */
function loadEngineModule(): typeof glue {
  // The glue reports Rust panics through this global before the Wasm trap surfaces as a RuntimeError.
  Object.assign(globalThis, {
    PRISMA_WASM_PANIC_REGISTRY: {
      set_message: (m: string) => {
        panicMessage = m;
      },
    },
  });
  const prismaDir = dirname(fileURLToPath(import.meta.resolve("prisma/package.json")));
  const module = new WebAssembly.Module(readFileSync(join(prismaDir, "build", "schema_engine_bg.wasm")));
  let exports: WebAssembly.Instance["exports"];
  try {
    exports = new WebAssembly.Instance(module, { "./schema_engine_bg.js": glue }).exports;
  } catch (error) {
    // After a Prisma upgrade: pin the @prisma/schema-engine-wasm whose glue the new wasm links against.
    throw new Error(`prisma's schema_engine_bg.wasm doesn't link with @prisma/schema-engine-wasm's glue: ${error}`);
  }
  glue.__wbg_set_wasm(exports);
  (exports.__wbindgen_start as () => void)();
  return glue;
}

function requireUrl(datasource: Datasource): string {
  if (datasource.url) return datasource.url;
  throw new Error("No database URL: set DATABASE_URL (prisma.config.ts passes it on).");
}

/** rpcError shapes a failure the way the CLI expects the native engine to report it. */
function rpcError(error: unknown) {
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as {
    message?: string;
    code?: unknown;
    meta?: unknown;
  };
  const isPanic = error instanceof WebAssembly.RuntimeError;
  const message = (isPanic ? panicMessage : undefined) ?? e.message ?? String(error);
  const code = typeof e.code === "string" && /^P\d{4}$/.test(e.code) ? e.code : undefined;
  return {
    code: 4466,
    message: "An error happened. Check the data field for details.",
    data: { is_panic: isPanic, message, ...(code ? { error_code: code, meta: e.meta ?? {} } : {}) },
  };
}

/** logLine writes one log record in the native engine's stderr format, which the CLI parses. */
function logLine(level: "INFO" | "ERROR", fields: Record<string, string>): string {
  return JSON.stringify({ timestamp: new Date().toISOString(), level, fields, target: "schema_engine::logger" });
}

/** runCli answers the one-shot commands the CLI runs before starting the engine proper. */
async function runCli(command: string, datasource: Datasource): Promise<number> {
  if (command === "--version") {
    console.log(`schema-engine-cli ${loadEngineModule().version()}`);
    return 0;
  }
  const url = requireUrl(datasource);
  try {
    if (command === "can-connect-to-database") await runOn(url, "SELECT 1");
    else if (command === "create-database") await createDatabase(url);
    else throw new Error(`Unknown cli command: ${command}`);
    return 0;
  } catch (error) {
    const { code, message } = connectionError(error, url);
    const fields: Record<string, string> = code ? { error_code: code, message } : { message };
    // The CLI skips the first stderr line and reads the rest as JSON records.
    const lines = [logLine("INFO", { message: `Running ${command}` }), logLine("ERROR", fields)];
    process.stderr.write(lines.join("\n"));
    return 1;
  }
}

/** connectionError maps a pg failure to the native engine's user-facing error codes. */
function connectionError(error: unknown, url: string): { code?: string; message: string } {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const { hostname, port, username } = new URL(url);
  const at = `\`${hostname}:${port || 5432}\``;
  if (code === "3D000")
    return { code: "P1003", message: `Database \`${databaseName(url)}\` does not exist on the database server at ${at}.` };
  if (code === "28P01" || code === "28000")
    return {
      code: "P1000",
      message: `Authentication failed against the database server at ${at}: the credentials for \`${username}\` are not valid.`,
    };
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ETIMEDOUT" || code === "EAI_AGAIN")
    return { code: "P1001", message: `Can't reach database server at ${at}\n\nPlease make sure your database server is running at ${at}.` };
  return { message: message ?? String(error) };
}

/** serve runs the JSON-RPC loop until the CLI closes stdin. */
async function serve(datamodelPaths: string[], datasource: Datasource): Promise<void> {
  const url = requireUrl(datasource);
  const { factory, cleanup } = createAdapterFactory(url, datasource.shadowDatabaseUrl);
  const datamodels = datamodelPaths.map((path): [string, string] => [path, readFileSync(path, "utf8")]);
  const log = (line: string) => void process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
  const engine: Promise<Engine> = loadEngineModule().SchemaEngine.new(
    { datamodels: datamodels.length > 0 ? datamodels : undefined },
    log,
    factory,
  );
  engine.catch(() => {}); // a failed start is reported to the first request instead
  process.once("SIGTERM", () => void cleanup().finally(() => process.exit(0)));

  const send = (message: Message) => process.stdout.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
  const waiting = new Map<number, () => void>();
  let nextId = 1;
  // The native engine prints `migrate diff` output by asking the CLI to ("print"); the Wasm one returns it.
  const print = (content: string) =>
    new Promise<void>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      send({ id, method: "print", params: { content: content.replace(/\n$/, "") } });
    });

  const call = async (method: string, params: unknown): Promise<unknown> => {
    const e = await engine;
    if (method === "getDatabaseVersion") return e.version(params as Parameters<Engine["version"]>[0]);
    if (method === "createDatabase") return { databaseName: await createDatabase(url) };
    if (!(passThrough as ReadonlyArray<string>).includes(method)) throw new Error(`Unsupported method: ${method}`);
    const run = e[method as (typeof passThrough)[number]] as (this: Engine, input: unknown) => Promise<unknown>;
    const result = await run.call(e, params);
    if (method === "diff" && typeof result === "object" && result !== null && "stdout" in result) {
      const { stdout, ...rest } = result as { stdout: string | null };
      if (stdout) await print(stdout);
      return { ...rest, stdout: null };
    }
    return result;
  };

  // The CLI sends one request at a time; the queue keeps replies in order regardless.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const message = JSON.parse(line) as Message;
    if (message.method === undefined) {
      waiting.get(Number(message.id))?.();
      waiting.delete(Number(message.id));
      continue;
    }
    const { id, method, params } = message;
    queue = queue.then(async () => {
      try {
        send({ id, result: (await call(method, params)) ?? null }); // void methods still answer
      } catch (error) {
        send({ id, error: rpcError(error) });
      }
    });
  }
  await queue;
  await cleanup();
  (await engine.catch(() => undefined))?.free();
}

const { datamodels, datasource, cli } = parseArgs(process.argv.slice(2));
try {
  if (cli) process.exit(await runCli(cli, datasource));
  await serve(datamodels, datasource);
  process.exit(0);
} catch (error) {
  process.stderr.write(`${logLine("ERROR", { message: error instanceof Error ? error.message : String(error) })}\n`);
  process.exit(1);
}
