// Placeholder until the services land: opens the database, applies pending migrations, and says
// what it will serve.
import { z } from "zod";
import { parseEnv } from "../services/lib/config.ts";
import { parseFlags, portFlag } from "../services/lib/cli.ts";
import { databaseEnv, pgliteDir } from "../services/lib/db/migrate-cli.ts";
import { openDatabase } from "../services/lib/db/database.ts";
import { migrateUp } from "../services/lib/db/migrate.ts";

export async function serve(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    "gateway-port": { type: "string" },
    "auth-port": { type: "string" },
    "user-port": { type: "string" },
  });
  const ports = {
    gateway: portFlag(values["gateway-port"], "--gateway-port", 3000),
    auth: portFlag(values["auth-port"], "--auth-port", 50051),
    user: portFlag(values["user-port"], "--user-port", 50052),
  };
  const env = parseEnv(z.object(databaseEnv), { requiredInProduction: ["DATABASE_URL"] });
  const db = await openDatabase({ url: env.DATABASE_URL, pgliteDir: pgliteDir(env.DATA_DIR) });
  await db.ping();
  await db.withSql((sql) => migrateUp(sql, (name) => console.log(`applied migration ${name}`)));
  console.log(`database: ${db.describe()}\nwould serve gateway :${ports.gateway}, auth :${ports.auth}, user :${ports.user}`);
  await new Promise(() => {});
}
