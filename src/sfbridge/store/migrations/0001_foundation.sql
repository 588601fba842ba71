-- sfbridge foundation schema: workspaces, API keys, Salesforce connections, OAuth states,
-- webhook inbox, traces and job errors. Every tenant-owned row carries workspace_id and
-- every query in queries.sql filters on it.

CREATE TABLE workspaces (
    id          text PRIMARY KEY DEFAULT gen_random_uuid()::text,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    is_demo     boolean NOT NULL DEFAULT false,
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- API keys are shown once as sfb_<prefix>_<secret>; only the SHA-256 of the whole key is kept.
-- "admin" keys belong to no workspace and may create workspaces; "workspace" keys see one.
CREATE TABLE api_keys (
    id           text PRIMARY KEY DEFAULT gen_random_uuid()::text,
    workspace_id text REFERENCES workspaces (id) ON DELETE CASCADE,
    scope        text NOT NULL CHECK (scope IN ('admin', 'workspace')),
    prefix       text NOT NULL UNIQUE,
    key_hash     text NOT NULL,
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_keys_scope_matches_workspace
        CHECK ((scope = 'admin') = (workspace_id IS NULL))
);
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id);

-- One Salesforce connection per workspace. *_enc columns hold SecretBox values bound to
-- "<workspace_id>:<column>"; they are never returned by the API or logged.
CREATE TABLE sf_connections (
    workspace_id       text PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    login_url          text NOT NULL,
    client_id          text NOT NULL,
    client_secret_enc  text NOT NULL,
    status             text NOT NULL DEFAULT 'credentials_saved'
        CHECK (status IN ('credentials_saved', 'connected', 'needs_reconnect', 'disconnected')),
    instance_url       text,
    org_id             text,
    user_id            text,
    username           text,
    is_sandbox         boolean,
    access_token_enc   text,
    refresh_token_enc  text,
    issued_at          timestamptz,
    last_refresh_at    timestamptz,
    last_error         text,
    webhook_token_hash text UNIQUE,
    webhook_token_enc  text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- OAuth authorize requests in flight: single use, short-lived. The state is stored hashed.
CREATE TABLE oauth_states (
    state_hash        text PRIMARY KEY,
    workspace_id      text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    code_verifier_enc text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    used_at           timestamptz
);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);

-- Webhook inbox: what Salesforce sent, stored before the endpoint answers.
CREATE TABLE webhook_events (
    id           bigserial PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    received_at  timestamptz NOT NULL DEFAULT now(),
    query        jsonb NOT NULL DEFAULT '{}'::jsonb,
    body         text NOT NULL DEFAULT '',
    headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
    status       text NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    processed_at timestamptz,
    error        text
);
CREATE INDEX webhook_events_workspace_idx ON webhook_events (workspace_id, received_at DESC);

-- One row per pipeline run. steps: [{name, status, duration_ms, detail,
-- calls: [{method, path, status, duration_ms, attempts}]}]
CREATE TABLE traces (
    id            text PRIMARY KEY DEFAULT gen_random_uuid()::text,
    workspace_id  text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    activity_id   text NOT NULL,
    activity_type text NOT NULL,
    status        text NOT NULL DEFAULT 'Running'
        CHECK (status IN ('Running', 'Complete', 'Complete with errors', 'Error')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    duration_ms   integer CHECK (duration_ms >= 0),
    steps         jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(steps) = 'array')
);
CREATE INDEX traces_workspace_started_idx ON traces (workspace_id, started_at DESC, id DESC);
CREATE INDEX traces_workspace_status_idx ON traces (workspace_id, status, started_at DESC);
CREATE INDEX traces_workspace_type_idx ON traces (workspace_id, activity_type, started_at DESC);
CREATE INDEX traces_workspace_activity_idx ON traces (workspace_id, activity_id);
CREATE INDEX traces_started_idx ON traces (started_at);

-- The error of each failed job attempt (procrastinate keeps the status, not the reason).
CREATE TABLE job_errors (
    id           bigserial PRIMARY KEY,
    job_id       bigint NOT NULL,
    workspace_id text,
    task_name    text NOT NULL,
    attempt      integer NOT NULL,
    error_type   text NOT NULL,
    message      text NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_errors_job_idx ON job_errors (job_id, id DESC);
CREATE INDEX job_errors_workspace_idx ON job_errors (workspace_id, occurred_at DESC);
