-- Every SQL statement sfbridge runs, as named blocks ("-- name: x"), loaded by sql.py and
-- run only by db.Database. Rule: every query on a tenant-owned table filters on
-- %(workspace_id)s. The few that cannot (they FIND the workspace: API key, webhook
-- token, OAuth state; or are global maintenance: purges, admin listings) say so.

-- ===== migrations =====================================================================

-- name: migrations_lock
-- One migrator at a time across processes; released at commit.
SELECT pg_advisory_xact_lock(7305418120);

-- name: migrations_create_table
CREATE TABLE IF NOT EXISTS sfbridge_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: migrations_applied
SELECT version, name, applied_at FROM sfbridge_migrations ORDER BY version;

-- name: migrations_record
INSERT INTO sfbridge_migrations (version, name) VALUES (%(version)s, %(name)s);

-- name: procrastinate_schema_present
SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present;

-- ===== workspaces =====================================================================

-- name: workspace_create
INSERT INTO workspaces (name, is_demo, settings)
VALUES (%(name)s, %(is_demo)s, %(settings)s)
RETURNING id, name, is_demo, settings, created_at;

-- name: workspace_get
SELECT id, name, is_demo, settings, created_at FROM workspaces WHERE id = %(workspace_id)s;

-- name: workspace_list
-- Admin listing: all workspaces (only admin keys reach it).
SELECT id, name, is_demo, settings, created_at FROM workspaces ORDER BY created_at, id;

-- name: workspace_find_demo
-- Global by design: at most one demo workspace per installation.
SELECT id, name, is_demo, settings, created_at FROM workspaces
WHERE is_demo ORDER BY created_at LIMIT 1;

-- name: workspace_rename
UPDATE workspaces SET name = %(name)s WHERE id = %(workspace_id)s
RETURNING id, name, is_demo, settings, created_at;

-- name: workspace_merge_settings
UPDATE workspaces SET settings = settings || %(changes)s WHERE id = %(workspace_id)s
RETURNING id, name, is_demo, settings, created_at;

-- name: workspace_delete
DELETE FROM workspaces WHERE id = %(workspace_id)s;

-- ===== api keys =======================================================================

-- name: apikey_create
INSERT INTO api_keys (workspace_id, scope, prefix, key_hash, label)
VALUES (%(workspace_id)s, %(scope)s, %(prefix)s, %(key_hash)s, %(label)s)
RETURNING id, workspace_id, scope, prefix, label, created_at, last_used_at, revoked_at;

-- name: apikey_find_by_prefix
-- Finds the workspace from the presented key (no workspace is known yet).
SELECT id, workspace_id, scope, prefix, key_hash, label, created_at, last_used_at, revoked_at
FROM api_keys WHERE prefix = %(prefix)s;

-- name: apikey_touch
-- Records use at most once a minute per key, so reads stay cheap.
UPDATE api_keys SET last_used_at = now()
WHERE id = %(key_id)s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: apikey_list
SELECT id, workspace_id, scope, prefix, label, created_at, last_used_at, revoked_at
FROM api_keys WHERE workspace_id = %(workspace_id)s ORDER BY created_at, id;

-- name: apikey_revoke
UPDATE api_keys SET revoked_at = now()
WHERE workspace_id = %(workspace_id)s AND id = %(key_id)s AND revoked_at IS NULL;

-- name: apikey_list_admin
SELECT id, workspace_id, scope, prefix, label, created_at, last_used_at, revoked_at
FROM api_keys WHERE scope = 'admin' ORDER BY created_at, id;

-- name: apikey_revoke_admin
UPDATE api_keys SET revoked_at = now()
WHERE scope = 'admin' AND id = %(key_id)s AND revoked_at IS NULL;

-- ===== salesforce connections =========================================================

-- name: connection_get
SELECT * FROM sf_connections WHERE workspace_id = %(workspace_id)s;

-- name: connection_get_for_update
-- Row lock: one token refresh at a time per workspace, across processes.
SELECT * FROM sf_connections WHERE workspace_id = %(workspace_id)s FOR UPDATE;

-- name: connection_save_credentials
-- The web-server flow's credentials. A new login URL, client id or flow belongs to another
-- app, org or grant: drop the old tokens.
INSERT INTO sf_connections (workspace_id, login_url, client_id, client_secret_enc)
VALUES (%(workspace_id)s, %(login_url)s, %(client_id)s, %(client_secret_enc)s)
ON CONFLICT (workspace_id) DO UPDATE SET
    client_secret_enc = EXCLUDED.client_secret_enc,
    status = CASE WHEN (sf_connections.login_url, sf_connections.client_id, sf_connections.auth_flow)
                       = (EXCLUDED.login_url, EXCLUDED.client_id, 'web_server')
                  THEN sf_connections.status ELSE 'credentials_saved' END,
    access_token_enc = CASE WHEN (sf_connections.login_url, sf_connections.client_id, sf_connections.auth_flow)
                       = (EXCLUDED.login_url, EXCLUDED.client_id, 'web_server')
                  THEN sf_connections.access_token_enc END,
    refresh_token_enc = CASE WHEN (sf_connections.login_url, sf_connections.client_id, sf_connections.auth_flow)
                       = (EXCLUDED.login_url, EXCLUDED.client_id, 'web_server')
                  THEN sf_connections.refresh_token_enc END,
    login_url = EXCLUDED.login_url,
    client_id = EXCLUDED.client_id,
    auth_flow = 'web_server',
    jwt_username = NULL,
    private_key_enc = NULL,
    updated_at = now()
RETURNING *;

-- name: connection_update_credentials_keep_secret
-- Same as above for a saved connection, keeping the stored client secret.
UPDATE sf_connections SET
    status = CASE WHEN (login_url, client_id, auth_flow) = (%(login_url)s, %(client_id)s, 'web_server')
                  THEN status ELSE 'credentials_saved' END,
    access_token_enc = CASE WHEN (login_url, client_id, auth_flow) = (%(login_url)s, %(client_id)s, 'web_server')
                  THEN access_token_enc END,
    refresh_token_enc = CASE WHEN (login_url, client_id, auth_flow) = (%(login_url)s, %(client_id)s, 'web_server')
                  THEN refresh_token_enc END,
    login_url = %(login_url)s,
    client_id = %(client_id)s,
    auth_flow = 'web_server',
    jwt_username = NULL,
    private_key_enc = NULL,
    updated_at = now()
WHERE workspace_id = %(workspace_id)s
RETURNING *;

-- name: connection_save_setup
-- Any flow. The caller read the row (FOR UPDATE) and passes the final sealed values and
-- whether the grant stays the same (login URL, client id, flow, run-as user); when it does
-- not, the old tokens belong to another app, org or user and are dropped.
INSERT INTO sf_connections (workspace_id, login_url, client_id, client_secret_enc, auth_flow,
                            jwt_username, private_key_enc)
VALUES (%(workspace_id)s, %(login_url)s, %(client_id)s, %(client_secret_enc)s, %(auth_flow)s,
        %(jwt_username)s, %(private_key_enc)s)
ON CONFLICT (workspace_id) DO UPDATE SET
    status = CASE WHEN %(same_grant)s THEN sf_connections.status ELSE 'credentials_saved' END,
    access_token_enc = CASE WHEN %(same_grant)s THEN sf_connections.access_token_enc END,
    refresh_token_enc = CASE WHEN %(same_grant)s THEN sf_connections.refresh_token_enc END,
    login_url = EXCLUDED.login_url,
    client_id = EXCLUDED.client_id,
    client_secret_enc = EXCLUDED.client_secret_enc,
    auth_flow = EXCLUDED.auth_flow,
    jwt_username = EXCLUDED.jwt_username,
    private_key_enc = EXCLUDED.private_key_enc,
    updated_at = now()
RETURNING *;

-- name: connection_record_error
-- A connect attempt that Salesforce refused: shown to the admin, the status is unchanged.
UPDATE sf_connections SET last_error = %(error)s, updated_at = now()
WHERE workspace_id = %(workspace_id)s;

-- name: connection_mark_connected
UPDATE sf_connections SET
    status = 'connected', instance_url = %(instance_url)s, org_id = %(org_id)s,
    user_id = %(user_id)s, username = %(username)s, is_sandbox = %(is_sandbox)s,
    access_token_enc = %(access_token_enc)s, refresh_token_enc = %(refresh_token_enc)s,
    issued_at = %(issued_at)s, last_refresh_at = %(issued_at)s, last_error = NULL,
    updated_at = now()
WHERE workspace_id = %(workspace_id)s;

-- name: connection_store_tokens
-- After a refresh; a refresh token is kept unless Salesforce returned a new one.
UPDATE sf_connections SET
    status = 'connected',
    access_token_enc = %(access_token_enc)s,
    refresh_token_enc = COALESCE(%(refresh_token_enc)s, refresh_token_enc),
    issued_at = %(issued_at)s, last_refresh_at = %(issued_at)s, last_error = NULL,
    updated_at = now()
WHERE workspace_id = %(workspace_id)s AND status IN ('connected', 'needs_reconnect');

-- name: connection_mark_needs_reconnect
UPDATE sf_connections SET status = 'needs_reconnect', access_token_enc = NULL,
    last_error = %(error)s, updated_at = now()
WHERE workspace_id = %(workspace_id)s AND status = 'connected';

-- name: connection_disconnect
UPDATE sf_connections SET status = 'disconnected', access_token_enc = NULL,
    refresh_token_enc = NULL, issued_at = NULL, last_error = NULL, updated_at = now()
WHERE workspace_id = %(workspace_id)s;

-- name: connection_set_webhook_token
UPDATE sf_connections SET webhook_token_hash = %(token_hash)s,
    webhook_token_enc = %(token_enc)s, updated_at = now()
WHERE workspace_id = %(workspace_id)s;

-- name: connection_find_by_webhook_token
-- Finds the workspace from the token in the webhook URL (no workspace is known yet).
SELECT workspace_id, webhook_token_hash FROM sf_connections
WHERE webhook_token_hash = %(token_hash)s;

-- name: connection_list_connected
-- Global maintenance: the daily refresh sweep visits every connected workspace.
SELECT workspace_id, last_refresh_at FROM sf_connections
WHERE status = 'connected' ORDER BY last_refresh_at NULLS FIRST;

-- name: oauth_state_create
INSERT INTO oauth_states (state_hash, workspace_id, code_verifier_enc, expires_at)
VALUES (%(state_hash)s, %(workspace_id)s, %(code_verifier_enc)s,
        now() + make_interval(secs => %(ttl_seconds)s));

-- name: oauth_state_consume
-- Finds the workspace from the state (callback); single use: a second call gets no row.
UPDATE oauth_states SET used_at = now()
WHERE state_hash = %(state_hash)s AND used_at IS NULL AND expires_at > now()
RETURNING workspace_id, code_verifier_enc;

-- name: oauth_state_purge
-- Global maintenance.
DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day';

-- ===== webhook inbox ==================================================================

-- name: event_insert
INSERT INTO webhook_events (workspace_id, query, body, headers)
VALUES (%(workspace_id)s, %(query)s, %(body)s, %(headers)s)
RETURNING id;

-- name: event_get
SELECT * FROM webhook_events WHERE workspace_id = %(workspace_id)s AND id = %(event_id)s;

-- name: event_mark
UPDATE webhook_events SET status = %(status)s, error = %(error)s,
    processed_at = CASE WHEN %(status)s = 'received' THEN NULL ELSE now() END
WHERE workspace_id = %(workspace_id)s AND id = %(event_id)s;

-- name: event_list_recent
SELECT * FROM webhook_events WHERE workspace_id = %(workspace_id)s
ORDER BY received_at DESC, id DESC LIMIT %(limit)s;

-- name: event_last_received_at
SELECT max(received_at) AS last FROM webhook_events WHERE workspace_id = %(workspace_id)s;

-- ===== traces =========================================================================

-- name: trace_insert
INSERT INTO traces (workspace_id, activity_id, activity_type, status, started_at,
                    duration_ms, steps)
VALUES (%(workspace_id)s, %(activity_id)s, %(activity_type)s, %(status)s,
        COALESCE(%(started_at)s, now()), %(duration_ms)s, %(steps)s)
RETURNING id;

-- name: trace_finish
UPDATE traces SET status = %(status)s, duration_ms = %(duration_ms)s, steps = %(steps)s
WHERE workspace_id = %(workspace_id)s AND id = %(trace_id)s;

-- name: trace_get
SELECT * FROM traces WHERE workspace_id = %(workspace_id)s AND id = %(trace_id)s;

-- name: trace_list
-- Newest first; keyset paging on (started_at, id) after the cursor.
SELECT * FROM traces
WHERE workspace_id = %(workspace_id)s
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(activity_type)s::text IS NULL OR activity_type = %(activity_type)s)
  AND (%(activity_id)s::text IS NULL OR activity_id = %(activity_id)s)
  AND (%(since)s::timestamptz IS NULL OR started_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR started_at < %(until)s)
  AND (%(after_started_at)s::timestamptz IS NULL
       OR (started_at, id) < (%(after_started_at)s::timestamptz, %(after_id)s::text))
ORDER BY started_at DESC, id DESC
LIMIT %(limit)s;

-- name: trace_purge
-- Global maintenance: retention applies to every workspace alike.
DELETE FROM traces WHERE started_at < now() - make_interval(days => %(days)s);

-- ===== jobs ===========================================================================

-- name: job_error_insert
INSERT INTO job_errors (job_id, workspace_id, task_name, attempt, error_type, message)
VALUES (%(job_id)s, %(workspace_id)s, %(task_name)s, %(attempt)s, %(error_type)s, %(message)s);

-- name: job_list_failed
-- Failed jobs of one workspace (tasks carry workspace_id in their arguments), each with
-- its last recorded error.
SELECT j.id, j.task_name, j.queue_name, j.lock, j.args, j.attempts,
       e.error_type, e.message, e.occurred_at AS failed_at
FROM procrastinate_jobs j
LEFT JOIN LATERAL (
    SELECT error_type, message, occurred_at FROM job_errors
    WHERE job_id = j.id ORDER BY id DESC LIMIT 1
) e ON true
WHERE j.status = 'failed' AND j.args ->> 'workspace_id' = %(workspace_id)s
ORDER BY j.id DESC
LIMIT %(limit)s;

-- name: job_replay
-- Puts one failed job of this workspace back in its queue, to run now.
SELECT procrastinate_retry_job_v2(j.id, now(), NULL, NULL, NULL) AS replayed
FROM procrastinate_jobs j
WHERE j.id = %(job_id)s AND j.status = 'failed'
  AND j.args ->> 'workspace_id' = %(workspace_id)s;

-- name: job_counts
-- Global: queue depth for metrics and doctor.
SELECT queue_name, status::text AS status, count(*) AS count
FROM procrastinate_jobs GROUP BY queue_name, status;

-- ===== Salesforce access ==============================================================

-- name: connection_refresh_lock
-- Held for one transaction: one process at a time refreshes a workspace's tokens.
SELECT pg_advisory_xact_lock(hashtextextended('sfbridge:sf-refresh:' || %(workspace_id)s, 0));

-- ===== webhook intake (hot path: one round trip) ======================================

-- name: webhook_accept
-- Stores a batch of webhook calls and queues one job per stored event, in one statement (so
-- in one transaction). %(calls)s is a jsonb array of {token_hash, query, body, headers} in
-- arrival order; the answer has one row (n, id) per call whose token matched a workspace,
-- n counting from 1. A call with an unknown token stores nothing and has no row. Event ids
-- and jobs follow arrival order (the job lock keeps one Case's events in that order).
WITH calls AS MATERIALIZED (
    SELECT known.*, nextval('webhook_events_id_seq') AS id
    FROM (
        SELECT c.n, ws.workspace_id, c.call -> 'query' AS query, c.call ->> 'body' AS body,
               c.call -> 'headers' AS headers
        FROM jsonb_array_elements(%(calls)s) WITH ORDINALITY AS c (call, n)
        JOIN sf_connections ws ON ws.webhook_token_hash = c.call ->> 'token_hash'
        ORDER BY c.n
    ) AS known
), ev AS (
    INSERT INTO webhook_events (id, workspace_id, query, body, headers)
    SELECT id, workspace_id, query, body, headers FROM calls ORDER BY n
), job AS MATERIALIZED (
    SELECT procrastinate_defer_jobs_v1(ARRAY(
        SELECT ROW(
            %(queue)s, %(task_name)s, 0,
            'case:' || workspace_id || ':' || coalesce(query ->> 'caseId', ''),
            NULL,
            jsonb_build_object('workspace_id', workspace_id, 'event_id', id),
            NULL
        )::procrastinate_job_to_defer_v1
        FROM calls ORDER BY n
    )) AS job_ids
)
SELECT calls.n, calls.id FROM calls CROSS JOIN job ORDER BY calls.n;

-- ===== health and metrics =============================================================

-- name: ping
SELECT 1;

-- name: doctor_job_counts
-- One workspace's jobs by status (tasks carry workspace_id in their arguments).
SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs
WHERE args ->> 'workspace_id' = %(workspace_id)s GROUP BY status;

-- name: metrics_connection_counts
SELECT status, count(*) AS n FROM sf_connections GROUP BY status;

-- name: connection_count_real
-- Demo mode "auto": is any non-demo workspace connected to a real org?
SELECT count(*) FROM sf_connections c JOIN workspaces w ON w.id = c.workspace_id
WHERE NOT w.is_demo AND c.status IN ('connected', 'needs_reconnect');

-- name: apikey_count_admin
SELECT count(*) FROM api_keys WHERE scope = 'admin' AND revoked_at IS NULL;
