// Renders deploy/k8s/overlays/{dev,prod} with `kubectl kustomize` (no cluster, no network) and checks
// what a cluster would get: every object against the Kubernetes v1.36.0 schemas of kubernetes-models,
// then selectors, ports, probes, the NetworkPolicy graph, images, commands, env, shutdown timing and
// securityContext (deploy/k8s-checks.ts, deploy/k8s-network.ts), and each binary's `config check`
// run with exactly the environment its Deployment would give it. KUBECTL=/path/to/kubectl picks one.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { gatewayEnvSchema } from "../gateway/env.ts";
import { parseEnv } from "../lib/config/config.ts";
import { databaseEnv } from "../lib/db/env.ts";
import { authEnvSchema } from "../services/auth/env.ts";
import { userEnvSchema } from "../services/user/env.ts";
import {
  containerEnv,
  envProblems,
  type K8sObject,
  portProblems,
  securityProblems,
  selectorProblems,
  shutdownProblems,
  workloads,
} from "./k8s-checks.ts";
import { networkGraph } from "./k8s-network.ts";
import { entries, imageEnv, kubectl, lookupFor, OVERLAYS, type Overlay, ROOT, render } from "./k8s-render.ts";

if (!kubectl) console.warn("[skip] deploy/k8s.test.ts: kubectl is not installed (Debian: apt-get install kubernetes-client)");

const scratch = mkdtempSync(join(tmpdir(), "k8s-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// What each binary is, reads, and may hold (README: Service credentials; least privilege).
const BINARIES = {
  gateway: {
    command: ["gateway", "serve", "--port", "3000"],
    reads: Object.keys(gatewayEnvSchema.shape),
    secrets: ["GATEWAY_TOKEN", "JWT_SECRET", "METRICS_TOKEN", "REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD", "REDIS_URL"],
  },
  "auth-service": {
    command: ["auth-service", "serve", "--port", "50051"],
    reads: Object.keys(authEnvSchema.shape),
    secrets: [
      "AUTH_SERVICE_TOKEN",
      "GATEWAY_TOKEN",
      "GATEWAY_TOKEN_PREVIOUS",
      "JWT_SECRET",
      "METRICS_TOKEN",
      "OPERATOR_TOKEN",
      "OPERATOR_TOKEN_PREVIOUS",
      "REDIS_PASSWORD",
      "REDIS_SENTINEL_PASSWORD",
      "REDIS_URL",
      "SMTP_URL",
    ],
  },
  "user-service": {
    command: ["user-service", "serve", "--port", "50052"],
    reads: Object.keys(userEnvSchema.shape),
    secrets: [
      "AUTH_SERVICE_TOKEN",
      "AUTH_SERVICE_TOKEN_PREVIOUS",
      "DATABASE_URL",
      "DIRECT_DATABASE_URL",
      "GATEWAY_TOKEN",
      "GATEWAY_TOKEN_PREVIOUS",
      "METRICS_TOKEN",
      "OPERATOR_TOKEN",
      "OPERATOR_TOKEN_PREVIOUS",
      "REDIS_PASSWORD",
      "REDIS_SENTINEL_PASSWORD",
      "REDIS_URL",
    ],
  },
  migrate: {
    command: ["user-service", "migrate", "up"],
    reads: Object.keys(databaseEnv),
    secrets: ["DATABASE_URL", "DIRECT_DATABASE_URL"],
  },
} as const;

const binaryOf = (command: string[] | undefined) => Object.entries(BINARIES).find(([, b]) => b.command.join(" ") === command?.join(" "));
const secretNames = (objects: K8sObject[]) =>
  new Set(
    objects
      .filter((o) => o.kind === "Secret")
      .map((o) => o.metadata.name)
      .concat("bun-api-secrets"),
  );

// Only the connections the binaries make (NetworkPolicy comment in deploy/k8s/base/network-policies.yaml).
const DNS = ["gateway", "auth-service", "user-service", "postgresql", "redis"].flatMap((from) => [
  `${from} → kube-dns:53/TCP`,
  `${from} → kube-dns:53/UDP`,
]);
// The auth service's mail worker reaches its SMTP relay (SMTP_URL) at any address on the submission
// ports: an ipBlock, which the graph takes to match every endpoint outside the namespace.
const SMTP = ["ingress-nginx", "internet", "kube-dns", "other-namespace"].flatMap((to) =>
  [465, 587, 1025].map((port) => `auth-service → ${to}:${port}/TCP`),
);
const EXPECTED_GRAPH = [
  "ingress-nginx → gateway:3000/TCP",
  "gateway → auth-service:50061/TCP",
  "gateway → user-service:50062/TCP",
  "gateway → redis:6379/TCP",
  "gateway → redis:26379/TCP",
  "auth-service → user-service:50062/TCP",
  "auth-service → redis:6379/TCP",
  "auth-service → redis:26379/TCP",
  "user-service → postgresql:5432/TCP",
  "user-service → redis:6379/TCP",
  "user-service → redis:26379/TCP",
  ...DNS,
  ...SMTP,
].sort();

// The stable APIs served by every Kubernetes from 1.27 (the manifests' stated minimum) to 1.36.
const SERVED_APIS = ["v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1"];

/** schemaProblems validates each object with its kubernetes-models class (the v1.36.0 OpenAPI schemas). */
async function schemaProblems(objects: K8sObject[], namespace: string): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const label = `${object.kind} ${object.metadata.name}`;
    if (!SERVED_APIS.includes(object.apiVersion)) problems.push(`${label}: ${object.apiVersion} is not a stable API`);
    if (object.kind !== "Namespace" && object.metadata.namespace !== namespace) problems.push(`${label}: not in ${namespace}`);
    const models = await import(`kubernetes-models/${object.apiVersion}`);
    // Newer kustomize folds long base64 values over lines; the API server's decoder skips the
    // line breaks, the schema's "byte" format doesn't.
    const data = (object as { data?: Record<string, string> }).data;
    if (object.kind === "Secret" && data) for (const key in data) data[key] = data[key]!.replace(/\s/g, "");
    try {
      new models[object.kind](object).validate();
    } catch (error) {
      problems.push(`${label}: ${error instanceof Error ? error.message : error}`);
    }
  }
  return problems;
}

describe.skipIf(!kubectl).each(Object.keys(OVERLAYS) as Overlay[])("deploy/k8s/overlays/%s", (overlay) => {
  const namespace = OVERLAYS[overlay];

  test("every rendered object is valid against the Kubernetes v1.36.0 schemas (kubernetes-models) and a stable API", async () => {
    const objects = render(overlay);
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        ...["ConfigMap", "Namespace", "Ingress"],
        ...Array(3).fill(["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"]).flat(),
        ...Array(5).fill("Service"),
        ...Array(7).fill("NetworkPolicy"),
        ...(overlay === "dev" ? ["Secret"] : []),
      ].sort(),
    );
    expect(await schemaProblems(objects, namespace)).toEqual([]);
  });

  test("selectors find their pods, Services target named container ports, probes use the container's ports", () => {
    const objects = render(overlay);
    expect(selectorProblems(objects)).toEqual([]);
    expect(portProblems(objects)).toEqual([]);
  });

  test("the NetworkPolicies allow exactly the connections the binaries make", () => {
    expect(networkGraph(render(overlay), namespace)).toEqual(EXPECTED_GRAPH);
  });

  test("each Deployment runs its binary from the one image, on the ports its containers declare", () => {
    const objects = render(overlay);
    const lookup = lookupFor(overlay, objects);
    const image = overlay === "dev" ? "bun-api-starter:dev" : "registry.example.com/bun-api-starter:0.1.0";
    const ran: string[] = [];
    for (const w of workloads(objects)) {
      for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
        expect(c.image).toBe(image);
        const [name] = binaryOf(c.command) ?? [];
        ran.push(`${w.name}/${c.name}: ${name}`);
        const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
        if (ports.http ?? ports.grpc) expect(String(ports.http ?? ports.grpc)).toBe(c.command!.at(-1)!);
        const env = containerEnv(c, lookup).env;
        if (ports.connect) expect(ports.connect).toBe(Number(env.AUTH_SERVICE_INTERNAL_PORT ?? env.USER_SERVICE_INTERNAL_PORT));
        expect(env.NODE_ENV).toBe("production");
      }
    }
    expect(ran.sort()).toEqual([
      "auth-service/auth-service: auth-service",
      "gateway/gateway: gateway",
      "user-service/migrate: migrate",
      "user-service/user-service: user-service",
    ]);
  });

  test("callers reach the services through their headless Services, on the internal Connect ports", () => {
    const objects = render(overlay);
    const env = containerEnv(workloads(objects).find((w) => w.name === "gateway")!.pod.containers[0]!, lookupFor(overlay, objects)).env;
    for (const [variable, service, port] of [
      ["AUTH_SERVICE_URL", "auth-service-headless", 50061],
      ["USER_SERVICE_URL", "user-service-headless", 50062],
    ] as const) {
      expect(env[variable]).toBe(`http://${service}:${port}`);
      const headless = objects.find((o) => o.kind === "Service" && o.metadata.name === service) as {
        spec?: { clusterIP?: string; ports?: { port: number }[] };
      };
      expect(headless?.spec?.clusterIP).toBe("None");
      expect(headless?.spec?.ports?.map((p) => p.port)).toContain(port);
    }
  });

  test("each container gets only variables its binary reads, from the ConfigMap and the Secret, and only its own secrets", () => {
    const objects = render(overlay);
    const secrets = secretNames(objects);
    expect(envProblems(objects, lookupFor(overlay, objects))).toEqual([]);
    for (const w of workloads(objects)) {
      for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
        const [name, binary] = binaryOf(c.command)!;
        const names = (c.env ?? []).map((v) => v.name);
        expect({ name, unread: names.filter((n) => !(binary.reads as readonly string[]).includes(n)) }).toEqual({ name, unread: [] });
        const fromSecret = (c.env ?? []).filter((v) => secrets.has(v.valueFrom?.secretKeyRef?.name ?? "")).map((v) => v.name);
        expect({ name, secrets: fromSecret.sort() }).toEqual({ name, secrets: [...binary.secrets] });
      }
    }
  });

  test("pods outlast their drain on shutdown and run unprivileged", () => {
    const objects = render(overlay);
    expect(shutdownProblems(objects, lookupFor(overlay, objects))).toEqual([]);
    expect(securityProblems(objects)).toEqual([]);
  });

  test(overlay === "dev" ? "runs one replica of each binary" : "runs at least two replicas of each binary", () => {
    const objects = render(overlay) as (K8sObject & { spec: { replicas?: number; minReplicas?: number; maxReplicas?: number } })[];
    for (const d of objects.filter((o) => o.kind === "Deployment")) expect(d.spec.replicas).toBeUndefined(); // the HPA owns it
    const bounds = objects
      .filter((o) => o.kind === "HorizontalPodAutoscaler")
      .map((h) => [h.metadata.name, h.spec.minReplicas, h.spec.maxReplicas]);
    expect(bounds.map(([name]) => name).sort()).toEqual(["auth-service", "gateway", "user-service"]);
    for (const [, min, max] of bounds) {
      if (overlay === "dev") expect([min, max]).toEqual([1, 1]);
      else expect(min).toBeGreaterThanOrEqual(2);
    }
  });

  test("each binary's `config check` accepts exactly the environment its Deployment gives it", async () => {
    const objects = render(overlay);
    const lookup = lookupFor(overlay, objects);
    expect(imageEnv).toMatchObject({ NODE_ENV: "production", DATA_DIR: "/data" });
    const runs = workloads(objects).flatMap((w) =>
      w.pod.containers.map(async (c) => {
        const env = { ...imageEnv, ...containerEnv(c, lookup).env };
        const proc = Bun.spawn([process.execPath, entries[c.command![0]!]!, "config", "check"], {
          cwd: ROOT,
          env,
          stdout: "pipe",
          stderr: "pipe",
        });
        const [stdout, stderr, exitCode] = await Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
          proc.exited,
        ]);
        return { container: c.name, exitCode, output: `${stdout}${stderr}`.trim() };
      }),
    );
    expect((await Promise.all(runs)).sort((a, b) => a.container.localeCompare(b.container))).toEqual(
      ["auth-service", "gateway", "user-service"].map((container) => ({ container, exitCode: 0, output: "configuration OK" })),
    );
    // The migrate init container: `migrate up` validates its environment with this schema (lib/db/migrate-cli.ts)
    // before it connects, and `config check` can't run it without connecting.
    const migrate = workloads(objects).find((w) => w.name === "user-service")!.pod.initContainers![0]!;
    const env = { ...imageEnv, ...containerEnv(migrate, lookup).env };
    expect(parseEnv(z.object(databaseEnv), { requiredInProduction: ["DATABASE_URL"] }, env).DATABASE_URL).toStartWith("postgresql://");
  }, 30_000);
});

// TypeScript's excess-property check against kubernetes-models' interfaces catches what the JSON
// schemas let through: a misspelled field (the schemas allow unknown properties).
describe.skipIf(!kubectl)("unknown fields", () => {
  test("no rendered object has a field its Kubernetes type lacks; a misspelled one is caught", () => {
    const models = join(ROOT, "node_modules/kubernetes-models");
    const typed = (objects: K8sObject[], prefix: string) =>
      objects
        .map((o, i) => {
          const module = `${models}/${o.apiVersion.includes("/") ? o.apiVersion : "v1"}/${o.kind}.js`;
          return `import type { I${o.kind} as ${prefix}${i} } from ${JSON.stringify(module)};\nexport const ${prefix}${i}_: ${prefix}${i} = ${JSON.stringify(o)};`;
        })
        .join("\n");
    writeFileSync(join(scratch, "rendered.ts"), `${typed(render("dev"), "D")}\n${typed(render("prod"), "P")}\n`);
    const planted = render("dev").filter((o) => o.kind === "Deployment");
    const container = (planted[0] as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec.template
      .spec.containers[0]!;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    writeFileSync(join(scratch, "planted.ts"), typed(planted, "X"));
    const tsc = Bun.spawnSync(
      [
        process.execPath,
        join(ROOT, "node_modules/typescript/bin/tsc"),
        "--noEmit",
        "--strict",
        "--skipLibCheck",
        "--module",
        "nodenext",
        "rendered.ts",
        "planted.ts",
      ],
      { cwd: scratch },
    );
    const errors = tsc.stdout.toString().split("\n").filter(Boolean);
    expect(errors.filter((line) => !line.startsWith("planted.ts"))).toEqual([]);
    expect(errors.join("\n")).toMatch(/readinesProbe\W+ does not exist in type 'IContainer'/);
  }, 30_000);
});

// Each planted mistake makes the check that guards against it fail, naming the mistake.
describe.skipIf(!kubectl)("planted mistakes", () => {
  // biome-ignore lint/suspicious/noExplicitAny: the mistakes are planted deep inside rendered YAML
  type Any = Record<string, any>;
  const find = (objects: K8sObject[], kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name) as Any;
  const dev = () => render("dev");
  const devLookup = (objects: K8sObject[]) => lookupFor("dev", objects);
  const graphDiff = (objects: K8sObject[]) => {
    const graph = networkGraph(objects, "bun-api-dev");
    return [
      ...graph.filter((e) => !EXPECTED_GRAPH.includes(e)).map((e) => `+ ${e}`),
      ...EXPECTED_GRAPH.filter((e) => !graph.includes(e)).map((e) => `- ${e}`),
    ];
  };

  const cases: Record<
    string,
    { mutate: (objects: K8sObject[]) => void; check: (objects: K8sObject[]) => string[] | Promise<string[]>; names: string }
  > = {
    "a value of the wrong type": {
      mutate: (o) => {
        find(o, "HorizontalPodAutoscaler", "gateway").spec.minReplicas = "1";
      },
      check: (o) => schemaProblems(o, "bun-api-dev"),
      names: "HorizontalPodAutoscaler gateway: data/spec/minReplicas must be integer",
    },
    "an API version that is no longer served": {
      mutate: (o) => {
        find(o, "PodDisruptionBudget", "gateway").apiVersion = "policy/v1beta1";
      },
      check: (o) => schemaProblems(o, "bun-api-dev"),
      names: "PodDisruptionBudget gateway: policy/v1beta1 is not a stable API",
    },
    "a selector typo in a Service": {
      mutate: (o) => {
        find(o, "Service", "user-service-headless").spec.selector["app.kubernetes.io/name"] = "user-servce";
      },
      check: selectorProblems,
      names: "Service user-service-headless: selects no pod",
    },
    "a Deployment whose selector misses its own pods": {
      mutate: (o) => {
        find(o, "Deployment", "gateway").spec.selector.matchLabels["app.kubernetes.io/name"] = "gatway";
      },
      check: selectorProblems,
      names: "Deployment gateway: selector doesn't match its pod template's labels",
    },
    "a probe on a wrong port": {
      mutate: (o) => {
        find(o, "Deployment", "auth-service").spec.template.spec.containers[0].readinessProbe.grpc.port = 50052;
      },
      check: portProblems,
      names: "auth-service/auth-service: readinessProbe port 50052 is no container port",
    },
    "a Service targeting a port no container has": {
      mutate: (o) => {
        find(o, "Service", "auth-service").spec.ports[1].targetPort = "conect";
      },
      check: portProblems,
      names: "Service auth-service: targetPort conect is no container port of auth-service",
    },
    "a missing secret key": {
      mutate: (o) => {
        delete (o.find((x) => x.kind === "Secret") as Any).data.GATEWAY_TOKEN;
      },
      check: (o) => envProblems(o, devLookup(o)),
      names: "gateway/gateway: GATEWAY_TOKEN needs key GATEWAY_TOKEN of Secret",
    },
    "a NetworkPolicy letting the gateway reach PostgreSQL": {
      mutate: (o) => {
        const postgresql = { podSelector: { matchLabels: { "app.kubernetes.io/name": "postgresql" } } };
        find(o, "NetworkPolicy", "gateway").spec.egress.push({ to: [postgresql], ports: [{ protocol: "TCP", port: 5432 }] });
        find(o, "NetworkPolicy", "postgresql").spec.ingress[0].from.push({
          podSelector: { matchLabels: { "app.kubernetes.io/name": "gateway" } },
        });
      },
      check: graphDiff,
      names: "+ gateway → postgresql:5432/TCP",
    },
    "a NetworkPolicy whose podSelector misses its pods (the gateway loses the auth service)": {
      mutate: (o) => {
        find(o, "NetworkPolicy", "auth-service").spec.podSelector.matchLabels["app.kubernetes.io/name"] = "auth";
      },
      check: graphDiff,
      names: "- gateway → auth-service:50061/TCP",
    },
    "a grace period shorter than the preStop pause plus the drain": {
      mutate: (o) => {
        find(o, "Deployment", "user-service").spec.template.spec.terminationGracePeriodSeconds = 15;
      },
      check: (o) => shutdownProblems(o, devLookup(o)),
      names: "user-service: terminationGracePeriodSeconds 15 ≤ preStop 10 + SHUTDOWN_TIMEOUT_SECONDS 10",
    },
    "a writable root filesystem": {
      mutate: (o) => {
        find(o, "Deployment", "user-service").spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem = false;
      },
      check: securityProblems,
      names: "user-service/migrate: readOnlyRootFilesystem is false, not true",
    },
  };

  for (const [mistake, { mutate, check, names }] of Object.entries(cases)) {
    test(`${mistake} fails the check`, async () => {
      const objects = dev();
      expect(await check(objects)).toEqual([]);
      mutate(objects);
      expect((await check(objects)).join("\n")).toContain(names);
    });
  }

  test("a missing secret key also fails the binary's own `config check`", () => {
    const objects = dev();
    delete (objects.find((x) => x.kind === "Secret") as Any).data.GATEWAY_TOKEN;
    const gateway = workloads(objects).find((w) => w.name === "gateway")!.pod.containers[0]!;
    const env = { ...imageEnv, ...containerEnv(gateway, devLookup(objects)).env };
    const result = Bun.spawnSync([process.execPath, entries.gateway!, "config", "check"], { cwd: ROOT, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.toString()).toContain("GATEWAY_TOKEN: is required when NODE_ENV=production");
  });

  // A Redis Cluster or Sentinel in place of REDIS_URL: the ConfigMap names the nodes, the Secret
  // loses REDIS_URL (and may hold the passwords). Every binary accepts that; with REDIS_URL left in
  // the Secret, every binary refuses to start.
  const configChecks = (objects: K8sObject[], config: Record<string, string>, secret: Record<string, string | null>) => {
    const configMap = objects.find((x) => x.kind === "ConfigMap") as Any;
    Object.assign(configMap.data, config);
    const data = (objects.find((x) => x.kind === "Secret") as Any).data;
    for (const [key, value] of Object.entries(secret)) {
      if (value === null) delete data[key];
      else data[key] = Buffer.from(value).toString("base64");
    }
    return workloads(objects).map((w) => {
      const env = { ...imageEnv, ...containerEnv(w.pod.containers[0]!, devLookup(objects)).env };
      const result = Bun.spawnSync([process.execPath, entries[w.pod.containers[0]!.command![0]!]!, "config", "check"], { cwd: ROOT, env });
      return { name: w.name, exitCode: result.exitCode, output: `${result.stdout}${result.stderr}`.trim() };
    });
  };
  const binaries = ["gateway", "auth-service", "user-service"];

  test("a Redis Cluster or Sentinel from the ConfigMap (REDIS_URL dropped from the Secret) passes every binary's `config check`", () => {
    const ok = (results: { name: string }[]) =>
      expect([...results].sort((a, b) => a.name.localeCompare(b.name))).toEqual(
        [...binaries].sort().map((name) => ({ name, exitCode: 0, output: "configuration OK" })),
      );
    ok(configChecks(dev(), { REDIS_CLUSTER_NODES: "redis-0.redis:6379,redis-1.redis:6379" }, { REDIS_URL: null, REDIS_PASSWORD: "pw" }));
    ok(
      configChecks(
        dev(),
        { REDIS_SENTINELS: "redis-sentinel:26379", REDIS_SENTINEL_NAME: "mymaster" },
        { REDIS_URL: null, REDIS_PASSWORD: "pw", REDIS_SENTINEL_PASSWORD: "spw" },
      ),
    );
  }, 30_000);

  test("a Redis Cluster in the ConfigMap with REDIS_URL still in the Secret fails every binary's `config check`", () => {
    const results = configChecks(dev(), { REDIS_CLUSTER_NODES: "redis-0.redis:6379" }, {});
    expect(results.map((r) => r.exitCode)).toEqual(binaries.map(() => 2));
    for (const r of results) expect(r.output).toContain("set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS");
  }, 30_000);

  test("DIRECT_DATABASE_URL in the Secret reaches the migrate init container and the user service, no other container", () => {
    const objects = dev();
    const direct = "postgresql://app:dev-only-password@postgresql-primary:5432/app";
    (objects.find((x) => x.kind === "Secret") as Any).data.DIRECT_DATABASE_URL = Buffer.from(direct).toString("base64");
    const got = workloads(objects).flatMap((w) =>
      [...(w.pod.initContainers ?? []), ...w.pod.containers].map((c) => [
        `${w.name}/${c.name}`,
        containerEnv(c, devLookup(objects)).env.DIRECT_DATABASE_URL,
      ]),
    );
    expect(Object.fromEntries(got.filter(([, value]) => value !== undefined))).toEqual({
      "user-service/migrate": direct,
      "user-service/user-service": direct,
    });
  });

  test("the dev Secret holds only keys some container reads", () => {
    const objects = dev();
    const read = new Set(
      workloads(objects).flatMap((w) =>
        [...(w.pod.initContainers ?? []), ...w.pod.containers].flatMap((c) => (c.env ?? []).map((v) => v.valueFrom?.secretKeyRef?.key)),
      ),
    );
    const secret = objects.find((o) => o.kind === "Secret") as Any;
    expect(Object.keys(secret.data).filter((key) => !read.has(key))).toEqual([]);
  });
});
