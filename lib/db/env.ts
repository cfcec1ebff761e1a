// Which database a binary opens: the environment that selects it and where the embedded one lives.
import { join } from "node:path";
import { commonEnv, count, postgresUrl } from "../config/config.ts";

/** databaseEnv is the part of the environment that selects the database. DATABASE_URL may point at
 * a transaction-mode pooler (PgBouncer); migrations, which need a session of their own (advisory
 * lock, multi-statement files), then go to DIRECT_DATABASE_URL. */
export const databaseEnv = {
  ...commonEnv,
  DATABASE_URL: postgresUrl.optional(),
  DIRECT_DATABASE_URL: postgresUrl.optional(),
  /** DATABASE_POOL_SIZE is this process's most connections to DATABASE_URL (see README: pool sizing). */
  DATABASE_POOL_SIZE: count.default(10),
};

/** databaseOptions turns databaseEnv into openDatabase's options. */
export const databaseOptions = (env: {
  DATABASE_URL?: string;
  DIRECT_DATABASE_URL?: string;
  DATABASE_POOL_SIZE: number;
  DATA_DIR: string;
}) => ({
  url: env.DATABASE_URL,
  directUrl: env.DIRECT_DATABASE_URL,
  poolSize: env.DATABASE_POOL_SIZE,
  pgliteDir: pgliteDir(env.DATA_DIR),
});

/** pgliteDir is where the embedded database lives. */
export const pgliteDir = (dataDir: string) => join(dataDir, "pglite");
