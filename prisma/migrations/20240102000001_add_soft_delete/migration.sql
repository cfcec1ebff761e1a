-- AlterTable
ALTER TABLE "users" ADD COLUMN "deleted_at" TIMESTAMPTZ(6);

-- CreateIndex
CREATE INDEX "idx_users_deleted_at" ON "users"("deleted_at");

-- A plain unique index would block re-registering the email of a soft-deleted user. Active users
-- keep unique emails through a partial unique index on the normalized email (raw SQL: Prisma's
-- schema language can't express it).
DROP INDEX "users_email_key";
CREATE UNIQUE INDEX "users_email_active_key" ON "users"(lower(btrim("email"))) WHERE "deleted_at" IS NULL;
