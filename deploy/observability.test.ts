// Checks the operations-as-code files: the Prometheus scrape configs and alert rules with promtool
// (Debian's `prometheus` package, which .ci/run installs), the alerts' unit tests, the Grafana
// dashboard's queries against the metric names the binaries export, and the compose files'
// `observability` profile with `docker-compose config` (no Docker engine needed).
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const prometheusDir = join(import.meta.dir, "prometheus");
const promtool = Bun.which("promtool");
const compose = Bun.which("docker-compose");
if (!promtool) {
  console.warn(
    "[skip] deploy/observability.test.ts: promtool is not installed, so the scrape configs, alert rules and their unit tests are not checked (Debian: apt-get install prometheus)",
  );
}
if (!compose) console.warn("[skip] deploy/observability.test.ts: docker-compose is not installed (Debian: apt-get install docker-compose)");

// The metrics the binaries export (issue #15; lib/metrics/metrics.ts declares them), prom-client's
// default metrics the dashboard shows, and Prometheus's own `up`.
const HISTOGRAMS = [
  "http_request_duration_seconds",
  "rpc_server_duration_seconds",
  "rpc_client_duration_seconds",
  "argon2_duration_seconds",
  "redis_command_duration_seconds",
  "db_query_duration_seconds",
];
const METRICS = new Set([
  ...HISTOGRAMS,
  ...["http_requests_total", "rpc_server_requests_total", "rpc_client_requests_total", "rate_limit_decisions_total"],
  ...["argon2_queue_depth", "redis_errors_total", "db_errors_total", "db_pool_connections", "dependency_up"],
  ...["user_cache_requests_total", "build_info"],
  ...["process_resident_memory_bytes", "process_cpu_seconds_total", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"],
]);
const histogramSeries = new RegExp(`^(${HISTOGRAMS.join("|")})_(bucket|count|sum)$`);
const KEYWORDS = new Set("and or unless bool offset by without on ignoring group_left group_right inf nan".split(" "));

/** metricNames lists the metrics a PromQL expression selects (a histogram's series by the histogram's name). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const identifiers = [...bare.matchAll(/(?<![\w.$])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()/g)].map(([name]) => name);
  return identifiers.filter((name) => !KEYWORDS.has(name.toLowerCase())).map((name) => name.replace(histogramSeries, "$1"));
}

const scratch = mkdtempSync(join(tmpdir(), "observability-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(cmd: string[], env: Record<string, string> = {}) {
  const result = Bun.spawnSync(cmd, { cwd: root, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, ...env } });
  return { exitCode: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}
// On failure the diff shows promtool's or docker-compose's own words.
const expectSuccess = (result: { exitCode: number; output: string }) => expect(result).toMatchObject({ exitCode: 0 });

type ScrapeConfig = { job_name: string; static_configs: { targets: string[] }[]; authorization?: { credentials_file?: string } };
type PrometheusConfig = { global: { scrape_interval: string }; rule_files: string[]; scrape_configs: ScrapeConfig[] };
const readYaml = <T>(path: string) => Bun.YAML.parse(readFileSync(path, "utf8")) as T;
const scrapeTargets = (config: PrometheusConfig) =>
  Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((s) => s.targets)]));

type Panel = { type: string; title: string; datasource?: { type: string; uid: string }; targets?: { expr: string }[]; panels?: Panel[] };
// Each panel names the dashboard's data-source variable, which defaults to the provisioned Prometheus.
const datasourceVariable = { type: "prometheus", uid: `\${datasource}` };
type Dashboard = { panels: Panel[]; templating: { list: { name: string; query?: unknown; current?: { value?: unknown } }[] } };
const dashboard = JSON.parse(readFileSync(join(import.meta.dir, "grafana/dashboards/bun-api-starter.json"), "utf8")) as Dashboard;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const dashboardExprs = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

type Rule = { alert: string; expr: string; labels?: { severity?: string }; annotations?: Record<string, string> };
const alertRules = readYaml<{ groups: { rules: Rule[] }[] }>(join(prometheusDir, "alerts.yml")).groups.flatMap((group) => group.rules);

test("metricNames reads the selectors, not the functions, labels, keywords or Grafana variables", () => {
  const p99 = 'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))';
  expect(metricNames(p99)).toEqual(["http_request_duration_seconds"]);
  expect(metricNames('count(up{job=~"$job"} == 0) or vector(0)')).toEqual(["up"]);
  expect(metricNames("sum(rate(a_total[5m] offset 1h)) / on (job) group_left sum(b_total) > bool 1e3")).toEqual(["a_total", "b_total"]);
});

describe("the Grafana dashboard", () => {
  test("queries only the metrics the binaries export, and up", () => {
    const unknown = dashboardExprs.flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => name !== "up" && !METRICS.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The job variable lists the scraped jobs: label_values(<selector>, job).
    const variables = dashboard.templating.list.flatMap(({ query }) =>
      [...JSON.stringify(query ?? "").matchAll(/label_values\(([^,]+),/g)].flatMap(([, selector]) => metricNames(selector!)),
    );
    expect(variables).toEqual(["up"]);
  });

  test("shows every metric the binaries export", () => {
    const shown = new Set(dashboardExprs.flatMap(({ expr }) => metricNames(expr)));
    expect([...METRICS].filter((name) => !shown.has(name))).toEqual([]);
  });

  test("every panel has a Prometheus data source and at least one query (rows only group them)", () => {
    const queryPanels = panels.filter((panel) => panel.type !== "row");
    expect(queryPanels.length).toBeGreaterThan(20);
    for (const panel of queryPanels) {
      expect({ title: panel.title, datasource: panel.datasource }).toEqual({ title: panel.title, datasource: datasourceVariable });
      expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
    }
    for (const row of panels.filter((panel) => panel.type === "row")) expect(row.targets ?? []).toEqual([]);
    // The variable defaults to the provisioned Prometheus (deploy/grafana/provisioning/datasources).
    const datasource = dashboard.templating.list.find((variable) => variable.name === "datasource");
    const provisioned = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      join(import.meta.dir, "grafana/provisioning/datasources/prometheus.yml"),
    ).datasources.find((source) => source.type === "prometheus");
    expect(datasource?.current?.value).toBe(provisioned?.uid);
    expect(provisioned?.url).toBe("http://prometheus:9090");
  });

  test.skipIf(!promtool)("every query parses as PromQL (promtool, with the Grafana variables filled in)", () => {
    const rules = dashboardExprs.map(({ expr }, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr.replaceAll("$__rate_interval", "1m").replaceAll("$job", ".*"),
    }));
    const file = join(scratch, "dashboard-queries.yml");
    writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
    expectSuccess(run([promtool!, "check", "rules", file]));
  });
});

describe("the alert rules", () => {
  test("select only the metrics the binaries export, and up", () => {
    const unknown = alertRules.flatMap((rule) => metricNames(rule.expr).filter((name) => name !== "up" && !METRICS.has(name)));
    expect(unknown).toEqual([]);
  });

  test("each has a severity, a summary and a description", () => {
    for (const rule of alertRules) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning)$/),
      });
      expect(Object.keys(rule.annotations ?? {}).sort()).toEqual(["description", "summary"]);
    }
  });

  test.skipIf(!promtool)("pass promtool check rules", () => {
    expectSuccess(run([promtool!, "check", "rules", "deploy/prometheus/alerts.yml"]));
  });

  test.skipIf(!promtool)(
    "pass their unit tests: the 5xx ratio, the limiter failing closed, RPC errors, p99, targets and dependencies down",
    () => {
      expectSuccess(run([promtool!, "test", "rules", "deploy/prometheus/alerts.test.yml"]));
    },
  );
});

describe("the Prometheus scrape configs", () => {
  const production = readYaml<PrometheusConfig>(join(prometheusDir, "prometheus.yml"));
  const development = readYaml<PrometheusConfig>(join(prometheusDir, "prometheus.dev.yml"));

  test("scrape each binary every 15 s and load the alerts", () => {
    expect(scrapeTargets(production)).toEqual({
      gateway: ["gateway:3000"],
      "auth-service": ["auth-service:50061"],
      "user-service": ["user-service:50062"],
    });
    expect(scrapeTargets(development)).toEqual({ combined: ["combined:3000"] });
    for (const config of [production, development]) {
      expect(config.global.scrape_interval).toBe("15s");
      expect(config.rule_files).toEqual(["alerts.yml"]);
    }
  });

  test.skipIf(!promtool)("pass promtool check config (which checks the rules they load too)", () => {
    expectSuccess(run([promtool!, "check", "config", "deploy/prometheus/prometheus.yml", "deploy/prometheus/prometheus.dev.yml"]));
  });

  test.skipIf(!promtool)("with the commented authorization blocks uncommented, every job presents the METRICS_TOKEN file", () => {
    for (const file of ["prometheus.yml", "prometheus.dev.yml"]) {
      const dir = mkdtempSync(join(scratch, "token-"));
      copyFileSync(join(prometheusDir, "alerts.yml"), join(dir, "alerts.yml"));
      writeFileSync(join(dir, "metrics-token"), "test-metrics-token-0123456789\n");
      const text = readFileSync(join(prometheusDir, file), "utf8").replace(
        /^( *)# (authorization:)\n\1# ( +type: Bearer)\n\1# ( +credentials_file: metrics-token)$/gm,
        "$1$2\n$1$3\n$1$4",
      );
      writeFileSync(join(dir, file), text);
      expectSuccess(run([promtool!, "check", "config", join(dir, file)]));
      const jobs = (Bun.YAML.parse(text) as PrometheusConfig).scrape_configs;
      expect(jobs.map((job) => job.authorization?.credentials_file)).toEqual(jobs.map(() => "metrics-token"));
    }
  });
});

// docker-compose.yml refuses to resolve without its secrets; any values do here.
const SECRETS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789",
  GATEWAY_TOKEN: "test-gateway-token-0123456789abcdef0123456",
  AUTH_SERVICE_TOKEN: "test-auth-service-token-0123456789abcdef01",
  OPERATOR_TOKEN: "test-operator-token-0123456789abcdef012345",
  POSTGRES_PASSWORD: "test-postgres-password",
  SMTP_URL: "smtps://mailer:secret@smtp.example.com:465",
  PUBLIC_BASE_URL: "https://app.example.com",
};
const OBSERVABILITY = ["grafana", "jaeger", "prometheus"];

type Service = {
  image?: string;
  profiles?: string[];
  command?: string[];
  ports?: ({ published: number | string; target: number } | string)[];
  volumes?: string[];
  environment?: Record<string, string | number>;
};

// As in deploy/compose.test.ts: an empty env file and a bare environment, so a developer's .env or
// shell can't change the verdict.
const emptyEnvFile = join(scratch, "empty.env");
writeFileSync(emptyEnvFile, "");
const composeArgs = (file: string, ...args: string[]) => [compose!, "--env-file", emptyEnvFile, "-f", join(root, file), ...args];
const resolved = new Map<string, Record<string, Service>>();
const observabilityServices = (file: string, env: Record<string, string> = {}) => {
  const key = JSON.stringify([file, env]);
  if (!resolved.has(key)) {
    const result = run(composeArgs(file, "--profile", "observability", "config"), env);
    expectSuccess(result);
    resolved.set(key, (Bun.YAML.parse(result.output) as { services: Record<string, Service> }).services);
  }
  return resolved.get(key)!;
};
// Bind mounts resolve to "/abs/source:/target:mode"; named volumes keep their name.
const binds = (service: Service): Record<string, string> =>
  Object.fromEntries(
    (service.volumes ?? []).filter((volume) => volume.startsWith("/")).map((volume) => [volume.split(":")[1], volume.split(":")[0]]),
  );

describe.skipIf(!compose)("the compose files' observability profile", () => {
  for (const [file, env, config] of [
    ["docker-compose.yml", SECRETS, "prometheus.yml"],
    ["docker-compose.dev.yml", {}, "prometheus.dev.yml"],
  ] as const) {
    test(`${file} validates with --profile observability`, () => {
      const result = run(composeArgs(file, "--profile", "observability", "config", "-q"), env);
      expect(result.output).toBe("");
      expect(result.exitCode).toBe(0);
    });

    test(`${file}: Prometheus, Grafana and Jaeger start only with the profile, mounting files that exist`, () => {
      const services = observabilityServices(file, env);
      // docker-compose 1.x lists every profile's services; the `redis-cluster` profile's are
      // deploy/compose.test.ts's, which also checks that no service is in two profiles.
      const profiled = Object.entries(services).filter(([, service]) => service.profiles?.includes("observability"));
      expect(profiled.map(([name]) => name).sort()).toEqual(OBSERVABILITY);
      for (const [, service] of profiled) {
        expect(service.profiles).toEqual(["observability"]);
        expect(service.image).toMatch(/:v?\d+\.\d+\.\d+$/); // pinned
        for (const source of Object.values(binds(service))) expect(existsSync(source)).toBe(true);
        // Their UIs are for the operator's machine only.
        for (const port of service.ports ?? []) expect(String(port)).toStartWith("127.0.0.1:");
      }
      expect(binds(services.prometheus!)).toEqual({
        "/etc/prometheus/prometheus.yml": join(prometheusDir, config),
        "/etc/prometheus/alerts.yml": join(prometheusDir, "alerts.yml"),
      });
      expect(binds(services.grafana!)).toEqual({
        "/etc/grafana/provisioning": join(import.meta.dir, "grafana/provisioning"),
        "/etc/grafana/dashboards": join(import.meta.dir, "grafana/dashboards"),
      });
      const provider = readYaml<{ providers: { options: { path: string } }[] }>(
        join(import.meta.dir, "grafana/provisioning/dashboards/dashboards.yml"),
      ).providers[0];
      expect(provider?.options.path).toBe("/etc/grafana/dashboards");
      expect(services.jaeger!.command).toContain("receivers.otlp.protocols.http.endpoint=0.0.0.0:4318");
    });

    test(`${file}: Grafana lets anonymous visitors view, and takes its admin password from GRAFANA_ADMIN_PASSWORD`, () => {
      expect(observabilityServices(file, env).grafana!.environment).toMatchObject({
        GF_AUTH_ANONYMOUS_ENABLED: "true",
        GF_AUTH_ANONYMOUS_ORG_ROLE: "Viewer",
        GF_SECURITY_ADMIN_PASSWORD: "admin",
      });
      const grafana = observabilityServices(file, { ...env, GRAFANA_ADMIN_PASSWORD: "a-better-password" }).grafana!;
      expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe("a-better-password");
    });
  }

  test("Prometheus scrapes the ports the compose files give the binaries", () => {
    const production = observabilityServices("docker-compose.yml", SECRETS);
    const development = observabilityServices("docker-compose.dev.yml");
    const gatewayPort = production.gateway!.command![production.gateway!.command!.indexOf("--port") + 1];
    const combinedPort = development.combined!.command![development.combined!.command!.indexOf("--gateway-port") + 1];
    expect(scrapeTargets(readYaml<PrometheusConfig>(join(prometheusDir, "prometheus.yml")))).toEqual({
      gateway: [`gateway:${gatewayPort}`],
      "auth-service": [`auth-service:${production["auth-service"]!.environment?.AUTH_SERVICE_INTERNAL_PORT}`],
      "user-service": [`user-service:${production["user-service"]!.environment?.USER_SERVICE_INTERNAL_PORT}`],
    });
    expect(scrapeTargets(readYaml<PrometheusConfig>(join(prometheusDir, "prometheus.dev.yml")))).toEqual({
      combined: [`combined:${combinedPort}`],
    });
  });
});
