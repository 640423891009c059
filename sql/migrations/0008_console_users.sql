-- People who sign in to the web console: a name, a role and a bcrypt hash of their password.
-- Roles map to the API token scopes: viewer = read, uploader = upload, admin = admin.
CREATE TABLE envmon.console_user (
    id            serial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:][:space:]]'),
    role          text NOT NULL CHECK (role IN ('viewer', 'uploader', 'admin')),
    password_hash text NOT NULL CHECK (password_hash LIKE '$2%'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    password_set_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    disabled_at   timestamptz
);

-- Sessions live here, not in a process: they survive a restart and are shared by every
-- `envmon serve` on the database. The cookie's secret is stored only as its SHA-256.
CREATE TABLE envmon.console_session (
    token_hash  bytea PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES envmon.console_user (id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    origin      text NOT NULL DEFAULT '' CHECK (length(origin) <= 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_session_user ON envmon.console_session (user_id);

-- Failed sign-ins, to lock a name out after five in 15 minutes.
CREATE TABLE envmon.console_login_failure (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_name text NOT NULL CHECK (length(user_name) <= 200),
    origin    text NOT NULL DEFAULT '' CHECK (length(origin) <= 200),
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_login_failure_name ON envmon.console_login_failure (user_name, at);
