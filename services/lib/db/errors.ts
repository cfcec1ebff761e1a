/** DatabaseUnavailableError means the database can't be reached: callers answer Unavailable. */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

/** MigrationError names the migration that failed; its bookkeeping row was not written. */
export class MigrationError extends Error {
  override name = "MigrationError";
  constructor(
    readonly migration: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`migration ${migration} failed: ${message}`, options);
  }
}
