// What deploy/k8s.test.ts checks against: the overlays as `kubectl kustomize` renders them, and the
// image they run (its environment and the entry point behind each command, read from the Dockerfile).
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type K8sObject, type Lookup, renderedData } from "./k8s-checks.ts";

export const ROOT = join(import.meta.dir, "..");

/** kubectl is KUBECTL when set (e.g. to try Debian's kubectl 1.20), else the one on PATH. */
export const kubectl = process.env.KUBECTL ?? Bun.which("kubectl");

/** OVERLAYS maps each overlay to the namespace it deploys into. */
export const OVERLAYS = { dev: "bun-api-dev", prod: "bun-api" } as const;
export type Overlay = keyof typeof OVERLAYS;

const rendered = new Map<Overlay, K8sObject[]>();

/** render runs `kubectl kustomize` on an overlay once (no cluster, no kubeconfig) and hands out copies. */
export function render(overlay: Overlay): K8sObject[] {
  if (!rendered.has(overlay)) {
    const result = Bun.spawnSync([kubectl!, "kustomize", join(ROOT, "deploy/k8s/overlays", overlay)], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir() },
    });
    if (result.exitCode !== 0) throw new Error(`kubectl kustomize ${overlay} failed:\n${result.stderr}`);
    rendered.set(overlay, Bun.YAML.parse(result.stdout.toString()) as K8sObject[]);
  }
  return structuredClone(rendered.get(overlay)!);
}

/** lookupFor finds ConfigMaps and Secrets in the rendered objects; the prod overlay leaves its Secret
 * to the operator, so the dev overlay's values stand in for it. */
export function lookupFor(overlay: Overlay, objects: K8sObject[]): Lookup {
  const own = renderedData(objects);
  const dev = render("dev");
  const devSecretName = dev.find((o) => o.kind === "Secret")!.metadata.name;
  return (kind, name) =>
    own(kind, name) ??
    (overlay === "prod" && kind === "Secret" && name === "bun-api-secrets" ? renderedData(dev)(kind, devSecretName) : undefined);
}

const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM ")).replace(/\\\n/g, " ");

/** imageEnv is the final stage's ENV (NODE_ENV, DATA_DIR; build arguments left out). */
export const imageEnv: Record<string, string> = Object.fromEntries(
  [...(/^ENV (.+)$/m.exec(finalStage)?.[1] ?? "").matchAll(/(\w+)=(\S+)/g)]
    .filter(([, , value]) => !value!.includes("${"))
    .map(([, name, value]) => [name!, value!]),
);

/** entries maps each command on the image's PATH to the script it runs (gateway → gateway/main.ts, …). */
export const entries: Record<string, string> = Object.fromEntries(
  [...dockerfile.matchAll(/([\w-]+):([\w/]+main\.ts)/g)].map(([, name, entry]) => [name!, entry!]),
);
