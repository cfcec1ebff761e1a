-- Reverses 20260601000001_add_email_verified_at.
ALTER TABLE "users" DROP COLUMN "email_verified_at";
