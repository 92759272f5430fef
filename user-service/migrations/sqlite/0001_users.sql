-- Users. `email_key` is the lower-cased email: unique, so two sign-ups
-- that differ only in case cannot both succeed, even at the same moment.
CREATE TABLE users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    email_key  TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
