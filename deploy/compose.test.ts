// Validates docker-compose.yml and docker-compose.dev.yml with `docker-compose config` (no Docker
// engine needed), then checks the resolved files for what the deployment relies on.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

function config(file: string, env: Record<string, string> = {}) {
  const result = Bun.spawnSync([compose!, "--env-file", emptyEnvFile, "-f", join(root, file), "config"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, ...env },
  });
  const stdout = result.stdout.toString();
  return {
    exitCode: result.exitCode,
    stderr: result.stderr.toString(),
    // What a plain `up` starts: docker-compose 1.x's `config` lists every profile's services too
    // (deploy/observability.test.ts checks the `observability` profile).
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
    expect(services["user-service"]!.environment).toMatchObject({
      DATABASE_URL: databaseUrl,
      GATEWAY_TOKEN: SECRETS.GATEWAY_TOKEN,
      AUTH_SERVICE_TOKEN: SECRETS.AUTH_SERVICE_TOKEN,
      OPERATOR_TOKEN: SECRETS.OPERATOR_TOKEN,
    });
    // Least privilege: each binary holds only the secrets it presents or checks.
    expect(services.gateway!.environment).not.toHaveProperty("AUTH_SERVICE_TOKEN");
    expect(services.gateway!.environment).not.toHaveProperty("OPERATOR_TOKEN");
    expect(services["auth-service"]!.environment).not.toHaveProperty("AUTH_SERVICE_TOKEN_PREVIOUS");
    expect(services.migrate!.environment).toEqual({ DATABASE_URL: databaseUrl });
  });
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
      REDIS_URL: "redis://redis:6379",
      SMTP_URL: "smtp://mailpit:1025",
    });
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
