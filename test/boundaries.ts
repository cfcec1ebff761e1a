// The module boundaries, as rules over the import graph: what each top-level folder may import.
// boundaries.test.ts runs them on the repository; the rules are pure functions of a list of
// imports, so a planted cross-import can be checked without touching the tree.
import { dirname, join, normalize } from "node:path";

/** Import is one edge of the graph between repository paths ("gateway/app.ts" → "lib/log.ts"). */
export type Import = { from: string; to: string };

// Static imports and re-exports (type-only ones too: they couple the code just the same), dynamic
// import("…"), new URL("…", import.meta.url) (workers), and the path a spawned script imports:
// import(${JSON.stringify(join(import.meta.dir, "…"))}).
const SPECIFIERS = [
  /(?:^|[^\w.$])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*[,)]/g,
  /\bnew\s+URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g,
  /\bimport\s*\(\s*\$\{\s*JSON\.stringify\(\s*join\(\s*import\.meta\.dir\s*,\s*["']([^"']+)["']\s*\)\s*\)\s*\}\s*\)/g,
];

/** importsOf lists the repository files one file imports; packages are left out (every rule allows them). */
export function importsOf(file: string, source: string): Import[] {
  const found: Import[] = [];
  for (const pattern of SPECIFIERS) {
    for (const match of source.matchAll(pattern)) {
      const spec = match[1]!;
      if (spec.startsWith("./") || spec.startsWith("../")) found.push({ from: file, to: normalize(join(dirname(file), spec)) });
    }
  }
  return found;
}

/** repositoryImports reads every tracked .ts file under root except generated code. */
export async function repositoryImports(root: string): Promise<Import[]> {
  const listed = Bun.spawnSync(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.ts"], { cwd: root });
  const files = listed.stdout
    .toString()
    .split("\n")
    .filter((file) => file && !file.startsWith("gen/"));
  const imports: Import[] = [];
  for (const file of files) {
    const source = Bun.file(join(root, file));
    if (await source.exists()) imports.push(...importsOf(file, await source.text()));
  }
  return imports;
}

const under = (path: string, folder: string) => path.startsWith(`${folder}/`);
/** Tests and benchmarks: they may reach anything, and nothing shipped may reach them. */
const isTestCode = (path: string) => under(path, "test") || under(path, "bench") || path.endsWith(".test.ts");
const serviceOf = (path: string) => /^services\/([^/]+)\//.exec(path)?.[1];
/** The binaries' entry points may wire services together: combined/ and each main.ts. */
const mayWire = (path: string) => under(path, "combined") || /(^|\/)main\.ts$/.test(path);

/** boundaryViolations returns one line per import that crosses a boundary, with the rule it breaks. */
export function boundaryViolations(imports: Import[]): string[] {
  const violations: string[] = [];
  const servicesUsed = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    const broken = (rule: string) => violations.push(`${from} → ${to}: ${rule}`);
    if (!isTestCode(from) && isTestCode(to)) broken("production code imports a test helper");
    if (under(from, "lib") && ["services", "gateway", "combined"].some((folder) => under(to, folder))) {
      broken("lib/ is the shared platform: it imports no service, gateway or combined code");
    }
    if (
      under(from, "gateway") &&
      !isTestCode(from) &&
      !["gen", "lib", "gateway"].some((folder) => under(to, folder)) &&
      to !== "package.json"
    ) {
      broken("the gateway imports only gen/ contracts, lib/, its own files, package.json and npm packages");
    }
    const fromService = serviceOf(from);
    const toService = serviceOf(to);
    if (fromService && toService && fromService !== toService && !isTestCode(from)) {
      broken(`the ${fromService} service imports the ${toService} service: services talk only through their RPC contracts`);
    } else if (
      fromService &&
      !toService &&
      !isTestCode(from) &&
      !["gen", "lib"].some((folder) => under(to, folder)) &&
      to !== "package.json"
    ) {
      broken("a service imports only gen/, lib/, its own files, package.json and npm packages");
    }
    if (toService && !fromService) servicesUsed.set(from, (servicesUsed.get(from) ?? new Set()).add(toService));
  }
  for (const [from, services] of servicesUsed) {
    if (services.size > 1 && !mayWire(from) && !isTestCode(from)) {
      violations.push(
        `${from} imports ${[...services].sort().join(" and ")}: only combined/ and the binaries' main.ts wire services together`,
      );
    }
  }
  return violations;
}
