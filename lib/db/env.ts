// Which database a binary opens: the environment that selects it and where the embedded one lives.
import { join } from "node:path";
import { commonEnv, postgresUrl } from "../config/config.ts";

/** databaseEnv is the part of the environment that selects the database. */
export const databaseEnv = {
  ...commonEnv,
  DATABASE_URL: postgresUrl.optional(),
};

/** pgliteDir is where the embedded database lives. */
export const pgliteDir = (dataDir: string) => join(dataDir, "pglite");
