-- Reverses 20240102000001_add_soft_delete. Fails, changing nothing, while two rows share an email
-- (possible once soft-deleted emails were re-registered): resolve those rows first.
DROP INDEX "users_email_active_key";
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
DROP INDEX "idx_users_deleted_at";
ALTER TABLE "users" DROP COLUMN "deleted_at";
