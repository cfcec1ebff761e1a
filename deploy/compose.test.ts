// Validates docker-compose.yml and docker-compose.dev.yml with `docker-compose config` (no Docker
// engine needed), then checks the resolved files for what the deployment relies on.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { entries, imageEnv } from "./k8s-render.ts";

const root = join(import.meta.dir, "..");
const compose = Bun.which("docker-compose");
if (!compose) console.warn("[skip] deploy/compose.test.ts: docker-compose is not installed (Debian: apt-get install docker-compose)");

const SECRETS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
  GATEWAY_TOKEN: "test-gateway-token-0123456789abcdef0123456",
  AUTH_SERVICE_TOKEN: "test-auth-service-token-0123456789abcdef01",
  OPERATOR_TOKEN: "test-operator-token-0123456789abcdef012345",
  POSTGRES_PASSWORD: "test-postgres-password",
  SMTP_URL: "smtps://mailer:secret@smtp.example.com:465",
  PUBLIC_BASE_URL: "https://app.example.com",
};

// An empty env file and a bare environment: a developer's .env or shell can't change the verdict.
const scratch = mkdtempSync(join(tmpdir(), "compose-test-"));
const emptyEnvFile = join(scratch, "empty.env");
writeFileSync(emptyEnvFile, "");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: ({ published: number | string; target: number } | string)[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
};

function config(file: string, env: Record<string, string> = {}, profiles: string[] = []) {
  const result = Bun.spawnSync(
    [compose!, "--env-file", emptyEnvFile, "-f", join(root, file), ...profiles.flatMap((p) => ["--profile", p]), "config"],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, ...env },
    },
  );
  const stdout = result.stdout.toString();
  return {
    exitCode: result.exitCode,
    stderr: result.stderr.toString(),
    /** all is every service, the profiles' included (docker-compose 1.x's `config` lists them all). */
    all: () => (Bun.YAML.parse(stdout) as { services: Record<string, Service> }).services,
    // What a plain `up` starts: docker-compose 1.x's `config` lists every profile's services too
    // (deploy/observability.test.ts checks the `observability` profile, this file `redis-cluster`).
    services: () =>
      Object.fromEntries(
        Object.entries((Bun.YAML.parse(stdout) as { services: Record<string, Service> }).services).filter(
          ([, service]) => !service.profiles?.length,
        ),
      ),
  };
}

// The valid configurations, resolved once per file.
const resolved = new Map<string, Record<string, Service>>();
const resolve = (file: string, env?: Record<string, string>) => {
  if (!resolved.has(file)) resolved.set(file, config(file, env).services());
  return resolved.get(file)!;
};

/** portsOf reads published ports in either of docker-compose's forms ({published, target} or "127.0.0.1:50051:50051/tcp"). */
const portsOf = (service: Service) =>
  (service.ports ?? []).map((port) => {
    if (typeof port !== "string") return { host: "", target: port.target };
    const parts = port.replace(/\/tcp$/, "").split(":");
    return { host: parts.length === 3 ? parts[0] : "", target: Number(parts.at(-1)) };
  });

// Every binary that opens Redis gets one target: the `redis` service unless another is chosen.
const REDIS_DEFAULTS = {
  REDIS_URL: "redis://redis:6379",
  REDIS_CLUSTER_NODES: "",
  REDIS_SENTINELS: "",
  REDIS_SENTINEL_NAME: "",
  REDIS_PASSWORD: "",
  REDIS_SENTINEL_PASSWORD: "",
  REDIS_KEY_PREFIX: "",
};
const CLUSTER_NODES = ["redis-node-0", "redis-node-1", "redis-node-2"];
const CLUSTER = { REDIS_URL: "", REDIS_CLUSTER_NODES: CLUSTER_NODES.map((node) => `${node}:6379`).join(",") };

/** configCheck runs a binary's `config check` on the environment compose gives its service in the image. */
async function configCheck(service: Service) {
  const environment = Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)]));
  const proc = Bun.spawn([process.execPath, entries[service.command![0]!]!, "config", "check"], {
    cwd: root,
    env: { ...imageEnv, ...environment },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, output: `${stdout}${stderr}`.trim() };
}

const conditions = (service: Service) =>
  Object.fromEntries(Object.entries(service.depends_on ?? {}).map(([name, { condition }]) => [name, condition]));

describe.skipIf(!compose)("docker-compose.yml (production)", () => {
  const productionServices = () => resolve("docker-compose.yml", SECRETS);

  test("validates when the secrets are set", () => {
    const result = config("docker-compose.yml", SECRETS);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });

  for (const name of Object.keys(SECRETS)) {
    test(`refuses to start without ${name}, naming it`, () => {
      const result = config("docker-compose.yml", { ...SECRETS, [name]: "" });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(`set ${name}`);
    });
  }

  test("runs each binary from one image, migrating before the user service starts", () => {
    const services = productionServices();
    expect(Object.keys(services).sort()).toEqual(["auth-service", "gateway", "migrate", "postgres", "redis", "user-service"]);
    const app = ["gateway", "auth-service", "user-service", "migrate"].map((name) => services[name]!);
    expect(new Set(app.map((service) => service.image)).size).toBe(1);
    expect(app.map((service) => service.command?.slice(0, 2).join(" "))).toEqual([
      "gateway serve",
      "auth-service serve",
      "user-service serve",
      "user-service migrate",
    ]);
    expect(conditions(services["user-service"]!)).toMatchObject({
      migrate: "service_completed_successfully",
      postgres: "service_healthy",
    });
    expect(conditions(services.gateway!)).toMatchObject({ "auth-service": "service_healthy", "user-service": "service_healthy" });
    expect(conditions(services.migrate!)).toEqual({ postgres: "service_healthy" });
  });

  test("publishes only the gateway, and every long-running service has a healthcheck", () => {
    const services = productionServices();
    const published = Object.entries(services).filter(([, service]) => service.ports?.length);
    expect(published.map(([name]) => name)).toEqual(["gateway"]);
    expect(services.gateway!.ports).toEqual([{ published: 3000, target: 3000 }]);
    for (const name of ["gateway", "auth-service", "user-service", "postgres", "redis"]) {
      expect(services[name]!.healthcheck?.test[0]).toBe("CMD");
    }
    expect(services["auth-service"]!.healthcheck?.test).toContain("grpc://127.0.0.1:50051");
    expect(services["user-service"]!.healthcheck?.test).toContain("grpc://127.0.0.1:50052");
    // The internal Connect listeners are checked too (deploy/healthcheck.ts takes several targets).
    expect(services["auth-service"]!.healthcheck?.test).toContain("grpc://127.0.0.1:50061");
    expect(services["user-service"]!.healthcheck?.test).toContain("grpc://127.0.0.1:50062");
  });

  test("wires the reference's variables between the services", () => {
    const services = productionServices();
    expect(services.gateway!.environment).toMatchObject({
      JWT_SECRET: SECRETS.JWT_SECRET,
      GATEWAY_TOKEN: SECRETS.GATEWAY_TOKEN,
      // The internal Connect listeners (lib/rpc/connect-listener.ts); 50051/50052 stay the gRPC ports.
      AUTH_SERVICE_URL: "http://auth-service:50061",
      USER_SERVICE_URL: "http://user-service:50062",
      REDIS_URL: "redis://redis:6379",
    });
    expect(services["auth-service"]!.environment).toMatchObject({
      JWT_SECRET: SECRETS.JWT_SECRET,
      AUTH_SERVICE_TOKEN: SECRETS.AUTH_SERVICE_TOKEN,
      GATEWAY_TOKEN: SECRETS.GATEWAY_TOKEN,
      OPERATOR_TOKEN: SECRETS.OPERATOR_TOKEN,
      USER_SERVICE_URL: "http://user-service:50062",
      AUTH_SERVICE_INTERNAL_PORT: 50061,
      SMTP_URL: SECRETS.SMTP_URL,
      PUBLIC_BASE_URL: SECRETS.PUBLIC_BASE_URL,
    });
    // Only the auth service sends mail.
    expect(services.gateway!.environment).not.toHaveProperty("SMTP_URL");
    expect(services["user-service"]!.environment).not.toHaveProperty("SMTP_URL");
    const databaseUrl = `postgresql://app:${SECRETS.POSTGRES_PASSWORD}@postgres:5432/app`;
    for (const name of ["gateway", "auth-service", "user-service"]) expect(services[name]!.environment).toMatchObject(REDIS_DEFAULTS);
    expect(services["user-service"]!.environment).toMatchObject({
      DATABASE_URL: databaseUrl,
      DIRECT_DATABASE_URL: "",
      DATABASE_POOL_SIZE: "10",
      GATEWAY_TOKEN: SECRETS.GATEWAY_TOKEN,
      AUTH_SERVICE_TOKEN: SECRETS.AUTH_SERVICE_TOKEN,
      OPERATOR_TOKEN: SECRETS.OPERATOR_TOKEN,
    });
    // Least privilege: each binary holds only the secrets it presents or checks.
    expect(services.gateway!.environment).not.toHaveProperty("AUTH_SERVICE_TOKEN");
    expect(services.gateway!.environment).not.toHaveProperty("OPERATOR_TOKEN");
    expect(services["auth-service"]!.environment).not.toHaveProperty("AUTH_SERVICE_TOKEN_PREVIOUS");
    expect(services.migrate!.environment).toEqual({ DATABASE_URL: databaseUrl, DIRECT_DATABASE_URL: "" });
    for (const name of ["gateway", "auth-service", "migrate"]) {
      expect(services[name]!.environment).not.toHaveProperty("DATABASE_POOL_SIZE");
      if (name !== "migrate") expect(services[name]!.environment).not.toHaveProperty("DIRECT_DATABASE_URL");
    }
  });

  test("DIRECT_DATABASE_URL (migrations past a pooler) and DATABASE_POOL_SIZE reach the migration and the user service", () => {
    const direct = "postgresql://app:direct@postgres:5432/app";
    const services = config("docker-compose.yml", { ...SECRETS, DIRECT_DATABASE_URL: direct, DATABASE_POOL_SIZE: "25" }).services();
    expect(services.migrate!.environment?.DIRECT_DATABASE_URL).toBe(direct);
    expect(services["user-service"]!.environment).toMatchObject({ DIRECT_DATABASE_URL: direct, DATABASE_POOL_SIZE: "25" });
  });

  test("each binary's `config check` accepts its environment: the `redis` service, or a Redis Cluster in its place; never both", async () => {
    const binaries = ["gateway", "auth-service", "user-service"];
    const checks = (env: Record<string, string>) => {
      const services = config("docker-compose.yml", { ...SECRETS, ...env }).services();
      return Promise.all(binaries.map((name) => configCheck(services[name]!)));
    };
    const ok = binaries.map(() => ({ exitCode: 0, output: "configuration OK" }));
    expect(await checks({})).toEqual(ok);
    const cluster = config("docker-compose.yml", { ...SECRETS, ...CLUSTER }).services();
    for (const name of binaries) expect(cluster[name]!.environment).toMatchObject({ ...REDIS_DEFAULTS, ...CLUSTER });
    expect(await checks(CLUSTER)).toEqual(ok);
    const sentinels = { REDIS_URL: "", REDIS_SENTINELS: "sentinel-0:26379,sentinel-1:26379", REDIS_SENTINEL_NAME: "mymaster" };
    expect(await checks(sentinels)).toEqual(ok);
    // REDIS_URL left at its default beside the cluster: every binary refuses, naming the rule.
    for (const result of await checks({ REDIS_CLUSTER_NODES: CLUSTER.REDIS_CLUSTER_NODES })) {
      expect(result.exitCode).toBe(2);
      expect(result.output).toContain("set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS");
    }
  }, 60_000);
});

test.skipIf(!compose)("every binary that opens Redis gets the same REDIS_KEY_PREFIX, empty unless set", () => {
  const prefixes = (file: string, env: Record<string, string>) => {
    const services = config(file, env).services();
    return Object.fromEntries(
      Object.entries(services)
        .filter(([, service]) => service.environment?.REDIS_URL)
        .map(([name, service]) => [name, service.environment?.REDIS_KEY_PREFIX]),
    );
  };
  expect(prefixes("docker-compose.yml", SECRETS)).toEqual({ gateway: "", "auth-service": "", "user-service": "" });
  expect(prefixes("docker-compose.yml", { ...SECRETS, REDIS_KEY_PREFIX: "shop:" })).toEqual({
    gateway: "shop:",
    "auth-service": "shop:",
    "user-service": "shop:",
  });
  expect(prefixes("docker-compose.dev.yml", { REDIS_KEY_PREFIX: "dev:" })).toEqual({ combined: "dev:" });
});

describe.skipIf(!compose)("docker-compose.dev.yml (development)", () => {
  test("validates with no configuration at all", () => {
    const result = config("docker-compose.dev.yml");
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test("runs the combined binary on PostgreSQL and Redis, publishing its three ports (the gRPC ones on loopback only)", () => {
    const dev = resolve("docker-compose.dev.yml");
    expect(Object.keys(dev).sort()).toEqual(["combined", "mailpit", "postgres", "redis"]);
    const combined = dev.combined!;
    expect(combined.command?.slice(0, 2)).toEqual(["combined", "serve"]);
    expect(portsOf(combined)).toEqual([
      { host: "", target: 3000 },
      { host: "127.0.0.1", target: 50051 },
      { host: "127.0.0.1", target: 50052 },
    ]);
    expect(combined.environment).toMatchObject({
      DATABASE_URL: "postgresql://app:app@postgres:5432/app",
      DIRECT_DATABASE_URL: "",
      DATABASE_POOL_SIZE: "10",
      ...REDIS_DEFAULTS,
      SMTP_URL: "smtp://mailpit:1025",
    });
    expect(config("docker-compose.dev.yml", CLUSTER).services().combined!.environment).toMatchObject({ ...REDIS_DEFAULTS, ...CLUSTER });
    expect(conditions(combined)).toEqual({ postgres: "service_healthy", redis: "service_healthy" });
    expect(combined.healthcheck?.test).toContain("http://127.0.0.1:3000/health");
  });

  test("catches every mail in mailpit, whose web UI is on the host's loopback only", () => {
    const dev = resolve("docker-compose.dev.yml");
    expect(dev.mailpit!.image).toStartWith("axllent/mailpit:");
    expect(portsOf(dev.mailpit!)).toEqual([{ host: "127.0.0.1", target: 8025 }]);
    expect(dev.mailpit!.healthcheck?.test).toBeDefined();
  });
});

describe.skipIf(!compose)("the redis-cluster profile", () => {
  for (const [file, env] of [
    ["docker-compose.yml", SECRETS],
    ["docker-compose.dev.yml", {}],
  ] as const) {
    test(`${file}: three cluster nodes announcing their service names, joined once by redis-cluster-init, only with the profile`, () => {
      const result = config(file, env, ["redis-cluster"]);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      const profiled = Object.entries(result.all()).filter(([, service]) => service.profiles?.includes("redis-cluster"));
      expect(profiled.map(([name]) => name).sort()).toEqual(["redis-cluster-init", ...CLUSTER_NODES]);
      for (const [name, service] of profiled) {
        expect(service.profiles).toEqual(["redis-cluster"]);
        expect(service.ports ?? []).toEqual([]); // the nodes are for the binaries only
        if (name === "redis-cluster-init") continue;
        const flag = (option: string) => service.command![service.command!.indexOf(option) + 1];
        expect(service.command?.[0]).toBe("redis-server");
        expect([flag("--cluster-enabled"), flag("--cluster-announce-hostname"), flag("--cluster-preferred-endpoint-type")]).toEqual([
          "yes",
          name,
          "hostname",
        ]);
        expect(service.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
      }
      const init = result.all()["redis-cluster-init"]!;
      // Idempotent: a cluster that already answers is left alone.
      expect(init.command?.join(" ")).toContain("cluster_state:ok ||");
      expect(init.command?.join(" ")).toContain(`--cluster create ${CLUSTER_NODES.map((n) => `${n}:6379`).join(" ")} --cluster-replicas 0`);
      expect(conditions(init)).toEqual(Object.fromEntries(CLUSTER_NODES.map((n) => [n, "service_healthy"])));
      // The seeds the file's header tells the operator to set are these nodes.
      expect(readFileSync(join(root, file), "utf8")).toContain(`REDIS_URL= REDIS_CLUSTER_NODES=${CLUSTER.REDIS_CLUSTER_NODES}`);
    });

    test(`${file}: every optional service is in exactly one known profile`, () => {
      const services = config(file, env, ["redis-cluster", "observability"]).all();
      for (const [name, service] of Object.entries(services)) {
        if (!service.profiles?.length) continue;
        expect({ name, profiles: service.profiles }).toEqual({
          name,
          profiles: [CLUSTER_NODES.includes(name) || name === "redis-cluster-init" ? "redis-cluster" : "observability"],
        });
      }
    });
  }
});
