// `users promote <email>` and `users create`: bootstrap an admin without SQL. They run the user
// service's own rules (services/user/user.ts) in this process on its database, like `migrate`, so
// they need no running service and repeat none of its logic (cache clearing, duplicate emails).
import { z } from "zod";
import { createPasswords } from "../services/auth/passwords.ts";
import { parseFlags, UsageError } from "../lib/cli.ts";
import { storeFromEnv } from "../lib/redis/index.ts";
import { parseEnv, redisChecks, redisEnv, tokenLifetimeEnv, tokenLifetimes } from "../lib/config/config.ts";
import { createRevocations } from "../lib/tokens/revocation.ts";
import { openDatabase } from "../lib/db/database.ts";
import { databaseEnv, databaseOptions } from "../lib/db/env.ts";
import { migrateUp } from "../lib/db/migrate.ts";
import { createLogger } from "../lib/log.ts";
import { check, email, name, password } from "../lib/validation.ts";
import { createUser, getUserByEmail, updateUser, type UserDeps } from "../services/user/user.ts";

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

const usersEnv = z.object({ ...databaseEnv, ...redisEnv, ...tokenLifetimeEnv });

/** withUsers opens the user service's database and store for fn, applying pending migrations first. */
async function withUsers<T>(fn: (users: UserDeps) => Promise<T>): Promise<T> {
  const env = parseEnv(usersEnv, { requiredInProduction: ["DATABASE_URL"], checks: [redisChecks] });
  const db = await openDatabase(databaseOptions(env));
  // Without REDIS_URL this is an empty in-process store. With it, Redis being down costs only the
  // cache clearing, which the user service logs as a warning (the entry expires within an hour).
  const cache = storeFromEnv(env, { onError: () => {} });
  try {
    await db.ping();
    await db.withSql((sql) => migrateUp(sql));
    const log = createLogger({ command: "users" }, "warn");
    return await fn({ prisma: db.prisma, cache, log, revocations: createRevocations(cache, tokenLifetimes(env)) });
  } finally {
    await cache.close();
    await db.close();
  }
}

async function promote(args: string[]): Promise<void> {
  const { positionals, values } = parseFlags(args, {});
  if (values.help) return console.log(USERS_USAGE);
  if (positionals.length !== 1) throw new UsageError("users promote takes exactly one email");
  const address = check("email", email, positionals[0]);
  await withUsers(async (users) => {
    const user = await getUserByEmail(users, address);
    await updateUser(users, user.id, { role: "admin" });
    console.log(`${address} is now an admin (existing tokens keep the old role until they are refreshed).`);
  });
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
  const passwordHash = await (await createPasswords()).hash(secret);
  await withUsers(async (users) => {
    const user = await createUser(users, { email: address, passwordHash, name: displayName, role: values.admin ? "admin" : "user" });
    console.log(`created ${user.role} ${user.email} (${user.id})`);
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
