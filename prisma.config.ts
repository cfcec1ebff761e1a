// Prisma CLI configuration. Prisma 7 reads no .env file, so this loads one (never overriding the real
// environment), and points the CLI at our WebAssembly-backed schema engine (prisma/engine) unless
// PRISMA_SCHEMA_ENGINE_BINARY is already set: `bunx prisma …` then needs no download, no native
// binary and no network.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { defineConfig } from "prisma/config";

const fromHere = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const envFile = fromHere(".env");
if (existsSync(envFile)) {
  for (const [name, value] of Object.entries(parseEnv(readFileSync(envFile, "utf8")))) process.env[name] ??= value;
}
process.env.PRISMA_SCHEMA_ENGINE_BINARY ||= fromHere("prisma/engine/schema-engine");

// `generate`, `validate` and `format` need no database; the rest should say what is missing in our terms
// rather than Prisma's ("datasource.url property is required"). The CLI needs a session of its own
// (advisory lock, prepared statements): DIRECT_DATABASE_URL when DATABASE_URL is a transaction-mode pooler.
const url = process.env.DIRECT_DATABASE_URL || process.env.DATABASE_URL || undefined;
const command = process.argv.slice(2).find((arg) => !arg.startsWith("-"));
if (!url && (command === "migrate" || command === "db" || command === "studio")) {
  throw new Error("DATABASE_URL is not set. Set it (or put it in .env), e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/app");
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url },
});
