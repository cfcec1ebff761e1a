-- Reverses 20240101000001_create_users.
DROP TABLE "users";
DROP TYPE "Role";
