// The command line of every binary, from outside: --help, usage errors, a port in use, a bad
// production environment and an unreachable database each end in one clear message and the right
// exit code, never a stack trace; `users create --password-stdin` makes a user who can log in.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { baseEnv, cleanup, dataDir, freePorts, http, messageLines, run, start, uniqueEmail, type Exited } from "../binaries.ts";
import type { Session } from "../stack.ts";

// Every test here waits on real processes (1–3 s to start, more on a busy machine).
setDefaultTimeout(30_000);

afterAll(cleanup);

const BINARIES = [
  { name: "combined", script: "combined/main.ts", portFlags: ["--gateway-port", "--auth-port", "--user-port"] },
  { name: "gateway", script: "gateway/main.ts", portFlags: ["--port"] },
  { name: "auth-service", script: "services/auth/main.ts", portFlags: ["--port"] },
  { name: "user-service", script: "services/user/main.ts", portFlags: ["--port"] },
] as const;

const env = (tag: string) => baseEnv(dataDir(tag));

/** expectOneError asserts a failed run printed exactly one "error:" message and no stack trace. */
function expectOneError(result: Exited, exitCode: number): string {
  expect(result.code).toBe(exitCode);
  expect(result.stderr).not.toContain("    at ");
  const errors = messageLines(result.stderr).filter((line) => line.startsWith("error:"));
  expect(errors).toHaveLength(1);
  return result.stderr;
}

describe("--help", () => {
  for (const { name, script } of BINARIES) {
    test(`${name} --help and ${name} serve --help exit 0 with usage`, async () => {
      const [top, serve] = await Promise.all([
        run([script, "--help"], env(`help-${name}`)),
        run([script, "serve", "--help"], env(`help-${name}`)),
      ]);
      expect(top).toMatchObject({ code: 0, stderr: "" });
      expect(top.stdout).toContain(`Usage: bun run ${name} `);
      expect(top.stdout).toContain("serve");
      expect(serve).toMatchObject({ code: 0, stderr: "" });
      expect(serve.stdout).toMatch(/Usage: bun run \S+ .*serve|serve \[--/);
    });
  }

  test("combined migrate --help and users --help exit 0 with usage", async () => {
    const [migrate, users] = await Promise.all([
      run(["combined/main.ts", "migrate", "--help"], env("help-migrate")),
      run(["combined/main.ts", "users", "--help"], env("help-users")),
    ]);
    expect(migrate).toMatchObject({ code: 0, stderr: "", stdout: expect.stringContaining("status") });
    expect(users).toMatchObject({ code: 0, stderr: "", stdout: expect.stringContaining("--password-stdin") });
  });
});

describe("usage errors", () => {
  for (const { name, script } of BINARIES) {
    test(`${name} serve --no-such-flag exits 2 with one message naming the flag`, async () => {
      const result = await run([script, "serve", "--no-such-flag"], env(`flag-${name}`));
      expect(expectOneError(result, 2)).toContain("--no-such-flag");
      expect(result.stdout).toBe("");
    });
  }

  test("a port flag that is not a port exits 2 naming the flag", async () => {
    const result = await run(["gateway/main.ts", "serve", "--port", "http"], env("flag-port"));
    expect(expectOneError(result, 2)).toContain('--port must be a port number (0-65535), got "http"');
  });

  test("users create --password (a password in argv) is refused without echoing it", async () => {
    const result = await run(
      ["combined/main.ts", "users", "create", "--email", "a@example.com", "--name", "A", "--password", "hunter2hunter2"],
      env("flag-password"),
    );
    expect(expectOneError(result, 2)).toContain("--password");
    expect(result.stderr + result.stdout).not.toContain("hunter2hunter2");
  });
});

describe("a port already in use", () => {
  // One listener holds the port; every binary (and each of combined's three ports) must refuse it.
  // They share one DATA_DIR, so the embedded database is created (the slow part) only once.
  const shared = env("port");
  const cases = BINARIES.flatMap(({ name, script, portFlags }) =>
    portFlags.map((flag) => ({ name, script, flag, others: portFlags.filter((f) => f !== flag) })),
  );
  for (const { name, script, flag, others } of cases) {
    test(`${name} serve ${flag} <busy port> exits non-zero naming the port`, async () => {
      const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      try {
        const free = freePorts(others.length);
        const args = [script, "serve", flag, `${holder.port}`, ...others.flatMap((other, i) => [other, `${free[i]}`])];
        const result = await run(args, shared);
        expect(result.code).not.toBe(0);
        expect(expectOneError(result, result.code)).toContain(`port ${holder.port} on 127.0.0.1 is already in use`);
      } finally {
        holder.stop(true);
      }
    });
  }
});

describe("configuration", () => {
  test("NODE_ENV=production JWT_SECRET=short: one message naming JWT_SECRET, DATABASE_URL and every other missing variable", async () => {
    const [gateway, auth, user] = freePorts(3);
    const result = await run(
      ["combined/main.ts", "serve", "--gateway-port", `${gateway}`, "--auth-port", `${auth}`, "--user-port", `${user}`],
      { ...env("prod"), NODE_ENV: "production", JWT_SECRET: "short" },
    );
    const stderr = expectOneError(result, 2);
    expect(result.stdout).toBe("");
    expect(stderr).toContain("JWT_SECRET: must be at least 32 characters");
    for (const name of ["DATABASE_URL", "REDIS_URL", "GATEWAY_TOKEN", "AUTH_SERVICE_TOKEN", "OPERATOR_TOKEN"])
      expect(stderr).toContain(`${name}: is required when NODE_ENV=production`);
    // No development fallback was taken: nothing was generated or opened.
    expect(stderr).not.toContain("note:");
    expect(stderr).not.toMatch(/\bshort\b/);
  });

  for (const script of ["services/user/main.ts", "combined/main.ts"]) {
    test(`${script} migrate status with an unreachable DATABASE_URL: one line naming DATABASE_URL and the host`, async () => {
      const [closed] = freePorts(1);
      const result = await run([script, "migrate", "status"], {
        ...env("unreachable"),
        DATABASE_URL: `postgresql://postgres:s3cret@127.0.0.1:${closed}/app`,
      });
      expect(result.code).not.toBe(0);
      expectOneError(result, result.code);
      expect(result.stderr.trim().split("\n")).toEqual([
        expect.stringMatching(new RegExp(`^error: DATABASE_URL: .*127\\.0\\.0\\.1:${closed}`)),
      ]);
      expect(result.stderr + result.stdout).not.toContain("s3cret");
    });
  }
});

describe("users create --password-stdin", () => {
  test("reads the password from stdin (never argv); logging in with it works", async () => {
    const dir = env("create");
    const email = uniqueEmail("stdin");
    const password = "stdin: spaces & symbols ok";
    const created = await run(
      ["combined/main.ts", "users", "create", "--email", email.toUpperCase(), "--name", "Stdin Admin", "--admin", "--password-stdin"],
      dir,
      `${password}\n`,
    );
    expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^created admin ${email} \\(`)) });
    expect(created.stdout + created.stderr).not.toContain(password);

    const again = await run(
      ["combined/main.ts", "users", "create", "--email", email, "--name", "Again", "--password-stdin"],
      dir,
      `${password}\n`,
    );
    expect(expectOneError(again, 1)).toContain(`an active user with email ${email} already exists`);
    const noTty = await run(["combined/main.ts", "users", "create", "--email", uniqueEmail("tty"), "--name", "No TTY"], dir);
    expect(expectOneError(noTty, 2)).toContain("--password-stdin");

    const [gateway, auth, user] = freePorts(3);
    const serve = await start(
      ["combined/main.ts", "serve", "--gateway-port", `${gateway}`, "--auth-port", `${auth}`, "--user-port", `${user}`],
      dir,
      /^ {2}redis +\S.*$/m,
    );
    try {
      const api = http(`http://127.0.0.1:${gateway}`);
      const login = await api("/auth/login", { body: { email, password } });
      expect(login.status).toBe(200);
      const session = (await login.json()) as Session;
      expect(session.user).toMatchObject({ email, name: "Stdin Admin", role: "admin" });
      expect((await api("/users", { token: session.access_token })).status).toBe(200);
      // The trailing newline was the end of the line, not part of the password.
      expect((await api("/auth/login", { body: { email, password: `${password}\n` } })).status).toBe(401);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  }, 60_000);
});

describe("config check", () => {
  // What each binary needs in production, as the compose file and the manifests give it.
  const production = {
    NODE_ENV: "production",
    DATABASE_URL: "postgresql://app:secret@127.0.0.1:5432/app",
    REDIS_URL: "redis://127.0.0.1:6379",
    JWT_SECRET: "a-production-jwt-secret-0123456789abcdef",
    GATEWAY_TOKEN: "gateway-token-0123456789abcdef0123456789",
    AUTH_SERVICE_TOKEN: "auth-token-0123456789abcdef0123456789ab",
    OPERATOR_TOKEN: "operator-token-0123456789abcdef01234567",
    USER_SERVICE_URL: "http://user-service:50062",
    SMTP_URL: "smtps://mailer:secret@127.0.0.1:465",
    PUBLIC_BASE_URL: "https://app.example.com",
  };
  for (const { name, script } of BINARIES) {
    test(`${name} config check: 0 on a complete production environment, 2 naming every problem otherwise`, async () => {
      const ok = await run([script, "config", "check"], { ...env(`config-${name}`), ...production });
      expect(ok).toMatchObject({ code: 0, stdout: "configuration OK\n" });
      const bad = await run([script, "config", "check"], { ...env(`config-${name}`), ...production, JWT_SECRET: "short", REDIS_URL: "" });
      const stderr = expectOneError(bad, 2);
      if (name !== "user-service") expect(stderr).toContain("JWT_SECRET: must be at least 32 characters");
      expect(stderr).toContain("REDIS_URL: is required when NODE_ENV=production");
      expect(stderr).not.toContain("short");
      if (name === "auth-service" || name === "combined") {
        const mail = await run([script, "config", "check"], { ...env(`config-${name}`), ...production, SMTP_URL: "", PUBLIC_BASE_URL: "" });
        const problems = expectOneError(mail, 2);
        expect(problems).toContain("SMTP_URL: is required when NODE_ENV=production");
        expect(problems).toContain("PUBLIC_BASE_URL: is required when NODE_ENV=production");
      }
      expectOneError(await run([script, "config", "nonsense"], env(`config-${name}`)), 2);
    });
  }
});
