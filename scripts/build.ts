// `bun run build [name…]`: single-file executables (`bun build --compile`) in dist/, one per binary,
// each carrying the Bun runtime, every dependency and everything the code loads at run time:
// - migrations: gen/migrations.ts embeds them as strings (scripts/gen-migrations.ts);
// - Prisma's WebAssembly query compiler: the generated client (runtime "bun") imports it as a
//   base64 module through a literal dynamic import, which the bundler follows (the prisma/orm#27754
//   "Cannot find module …query_compiler…wasm" failure comes from bundlers that don't);
// - Swagger UI: imported `with { type: "file" }` in gateway/routes/docs.ts;
// - PGlite's pglite.wasm, initdb.wasm and pglite.data: PGlite finds them with
//   `new URL("./pglite.wasm", import.meta.url)`, which the bundler leaves alone, so inside an
//   executable it looks for /$bunfs/root/pglite.wasm. `compile.assets` embeds each file there, under
//   its own name (oven-sh/bun#15032, electric-sql/pglite#414).
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(import.meta.dir, "..");

/** BINARIES maps each executable to its entry point, named as the package scripts. */
export const BINARIES = {
  combined: "combined/main.ts",
  gateway: "gateway/main.ts",
  "auth-service": "services/auth/main.ts",
  "user-service": "services/user/main.ts",
} as const;

export type BinaryName = keyof typeof BINARIES;

const pgliteDist = dirname(Bun.resolveSync("@electric-sql/pglite", root));
const PGLITE_ASSETS = ["pglite.wasm", "initdb.wasm", "pglite.data"].map((file) => join(pgliteDist, file));

// Worker entry points the binaries start: each is bundled as an entry point of its own, found at
// /$bunfs/root/<its path from the repository root> (see services/auth/argon2-threads.ts).
const WORKERS = ["services/auth/argon2-worker.ts"];

/** buildExecutable compiles one binary to outfile and returns its path. */
export async function buildExecutable(name: BinaryName, outfile: string): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(root, BINARIES[name]), ...WORKERS.map((file) => join(root, file))],
    root,
    compile: {
      outfile,
      assets: PGLITE_ASSETS,
      // Behave like `bun <file>` (which loads .env from the working directory), but let no stray
      // bunfig.toml change a shipped binary.
      autoloadDotenv: true,
      autoloadBunfig: false,
    },
    minify: true,
    // The executable embeds the source map (stack traces name the .ts files); the copy written
    // beside it is redundant.
    sourcemap: "linked",
    throw: false,
  });
  if (!result.success) {
    throw new AggregateError(result.logs, result.logs.map((log) => log.message).join("\n"));
  }
  for (const output of result.outputs) if (output.kind === "sourcemap") rmSync(output.path, { force: true });
  rmSync(`${outfile}.map`, { force: true });
  return outfile;
}

if (import.meta.main) {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(name in BINARIES));
  if (unknown.length > 0) {
    console.error(`unknown binary ${unknown.join(", ")}: choose from ${Object.keys(BINARIES).join(", ")}`);
    process.exit(2);
  }
  const names = (requested.length > 0 ? requested : Object.keys(BINARIES)) as BinaryName[];
  for (const name of names) {
    const started = performance.now();
    try {
      const outfile = await buildExecutable(name, join(root, "dist", name));
      const size = (Bun.file(outfile).size / 1024 / 1024).toFixed(0);
      console.log(`✔ ${name.padEnd(12)} dist/${name}  ${size} MB  ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      console.error(`✘ ${name}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  }
}
