// `users promote <email>` and `users create`: bootstrap an admin without SQL. They work on the
// database directly (like `migrate`), so they need no running service.
import { z } from "zod";
import { createPasswords } from "../services/auth/passwords.ts";
import { parseFlags, UsageError } from "../lib/cli.ts";
import { storeFromEnv, type RedisEnv } from "../lib/redis/index.ts";
import { parseEnv, redisEnv } from "../lib/config/config.ts";
import { openDatabase } from "../lib/db/database.ts";
import { isUniqueViolation } from "../lib/db/errors.ts";
import { databaseEnv, pgliteDir } from "../lib/db/env.ts";
import { migrateUp } from "../lib/db/migrate.ts";
import { check, email, name, password } from "../lib/validation.ts";
import * as store from "../services/user/user.store.ts";

export const USERS_USAGE = `users <command>

Commands:
  promote <email>                                   make an existing user an admin
  create --email E --name N [--admin] [--password-stdin]
                                                    create a user; the password is read from
                                                    stdin with --password-stdin, else prompted
                                                    (never taken from the command line)`;

/** usersCommand runs `users promote` or `users create`. */
export async function usersCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (!action || action === "--help" || action === "-h") {
    if (!action) throw new UsageError("users needs a command: promote or create");
    return console.log(USERS_USAGE);
  }
  if (action === "promote") return promote(rest);
  if (action === "create") return create(rest);
  throw new UsageError(`unknown users command "${action}": use promote or create`);
}

const usersEnv = z.object({ ...databaseEnv, ...redisEnv });

async function withDatabase<T>(
  fn: (db: Awaited<ReturnType<typeof openDatabase>>, env: z.output<typeof usersEnv>) => Promise<T>,
): Promise<T> {
  const env = parseEnv(usersEnv, { requiredInProduction: ["DATABASE_URL"] });
  const db = await openDatabase({ url: env.DATABASE_URL, pgliteDir: pgliteDir(env.DATA_DIR) });
  try {
    await db.ping();
    await db.withSql((sql) => migrateUp(sql));
    return await fn(db, env);
  } finally {
    await db.close();
  }
}

async function promote(args: string[]): Promise<void> {
  const { positionals, values } = parseFlags(args, {});
  if (values.help) return console.log(USERS_USAGE);
  if (positionals.length !== 1) throw new UsageError("users promote takes exactly one email");
  const address = check("email", email, positionals[0]);
  await withDatabase(async (db, env) => {
    const user = await store.findByEmail(db.prisma, address);
    if (!user) throw new Error(`no active user with email ${address}`);
    await store.update(db.prisma, user.id, { role: "admin" });
    if (env.REDIS_URL) await forgetCachedUser(env, user.id);
    console.log(`${address} is now an admin (existing tokens keep the old role until they are refreshed).`);
  });
}

// GetUser (GET /users/me, and the role a refreshed token gets) reads through the Redis cache, which
// this command bypasses: without this the old role would be served until the entry expired (1 h).
async function forgetCachedUser(env: RedisEnv, id: string): Promise<void> {
  const redis = storeFromEnv(env, { onError: () => {} });
  try {
    await redis.cache.invalidateUser(id);
  } catch (error) {
    console.error(
      `warning: could not clear the cached user in ${redis.describe()} (${error instanceof Error ? error.message : error}); the services show the new role within an hour`,
    );
  } finally {
    await redis.close();
  }
}

async function create(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    email: { type: "string" },
    name: { type: "string" },
    admin: { type: "boolean" },
    "password-stdin": { type: "boolean" },
  });
  if (values.help) return console.log(USERS_USAGE);
  if (!values.email || !values.name) throw new UsageError("users create needs --email and --name");
  const address = check("email", email, values.email);
  const displayName = check("name", name, values.name);
  const secret = check("password", password, values["password-stdin"] ? await readStdinPassword() : await promptPassword());
  const hash = await (await createPasswords()).hash(secret);
  await withDatabase(async (db) => {
    try {
      const user = await store.create(db.prisma, {
        email: address,
        passwordHash: hash,
        name: displayName,
        role: values.admin ? "admin" : "user",
      });
      console.log(`created ${user.role} ${user.email} (${user.id})`);
    } catch (error) {
      if (isUniqueViolation(error)) throw new Error(`an active user with email ${address} already exists`);
      throw error;
    }
  });
}

async function readStdinPassword(): Promise<string> {
  const text = await Bun.stdin.text();
  return text.replace(/\r?\n$/, "");
}

// A prompt that doesn't echo what is typed.
async function promptPassword(): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError("no terminal to prompt on: pass the password on stdin with --password-stdin");
  process.stdout.write("Password: ");
  process.stdin.setRawMode(true);
  let value = "";
  try {
    for await (const chunk of process.stdin) {
      for (const char of String(chunk)) {
        if (char === "\r" || char === "\n") return value;
        if (char === "\u0003") throw new Error("cancelled");
        value = char === "\u007f" ? value.slice(0, -1) : value + char;
      }
    }
    return value;
  } finally {
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdout.write("\n");
  }
}
