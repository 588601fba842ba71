-- Email cases: recipient addresses, the inbound mail inbox, sessions (one email
-- conversation per contact), their messages, the outgoing mail outbox, the dev mailbox,
-- and per-workspace email state (thread-token key, cached Case describe).
-- Every row carries workspace_id and every query in queries_email.sql filters on it.

CREATE TABLE mail_addresses (
    address      text PRIMARY KEY CHECK (address = lower(address) AND position('@' IN address) > 1),
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX mail_addresses_workspace_idx ON mail_addresses (workspace_id, created_at);

CREATE TABLE email_state (
    workspace_id  text PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    thread_secret bytea NOT NULL,
    case_fields   jsonb,            -- names of the Case fields (describe, cached)
    described_at  timestamptz
);

CREATE TABLE email_sessions (
    id                 text PRIMARY KEY DEFAULT gen_random_uuid()::text,
    workspace_id       text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    contact_address    text NOT NULL,
    contact_name       text NOT NULL DEFAULT '',
    subject            text NOT NULL DEFAULT '',
    normalized_subject text NOT NULL DEFAULT '',
    thread_token       text NOT NULL DEFAULT '',
    thread_index       text,
    status             text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'handed_off', 'resolved')),
    case_id            text,
    case_number        text,
    case_closed        boolean NOT NULL DEFAULT false,
    handoff_reason     text,
    handoff_topic      text,
    handoff_summary    text,
    handoff_requested_at timestamptz,
    handoff_started_at timestamptz,   -- "attempt started": set BEFORE calling Salesforce
    handoff_upto       bigint,        -- the last message included in the transcript
    handoff_error      text,
    resolved_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_activity_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    sf_cursor          timestamptz
);
CREATE INDEX email_sessions_workspace_idx ON email_sessions (workspace_id, updated_at DESC, id DESC);
CREATE INDEX email_sessions_contact_idx ON email_sessions (workspace_id, contact_address, last_activity_at DESC);
CREATE INDEX email_sessions_token_idx ON email_sessions (workspace_id, thread_token);
CREATE INDEX email_sessions_thread_index_idx ON email_sessions (workspace_id, thread_index);
CREATE INDEX email_sessions_case_idx ON email_sessions (workspace_id, case_id);
CREATE INDEX email_sessions_handed_off_idx ON email_sessions (workspace_id) WHERE status = 'handed_off';

CREATE TABLE inbound_mail (
    id           bigserial PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    mail_from    text NOT NULL DEFAULT '',
    rcpt         text NOT NULL DEFAULT '',
    raw          bytea NOT NULL,
    digest       text NOT NULL,
    source       text NOT NULL DEFAULT 'smtp' CHECK (source IN ('smtp', 'http')),
    received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    status       text NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    reason       text,
    parse_error  text,
    session_id   text REFERENCES email_sessions (id) ON DELETE SET NULL,
    sender       text NOT NULL DEFAULT ''
);
-- A sender retrying a transaction we already stored (451 after a partial commit) is a copy.
CREATE UNIQUE INDEX inbound_mail_digest_idx ON inbound_mail (workspace_id, digest);
CREATE INDEX inbound_mail_sender_idx ON inbound_mail (workspace_id, sender, received_at DESC);

CREATE TABLE email_messages (
    id                bigserial PRIMARY KEY,
    workspace_id      text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    session_id        text NOT NULL REFERENCES email_sessions (id) ON DELETE CASCADE,
    inbound_id        bigint REFERENCES inbound_mail (id) ON DELETE SET NULL,
    direction         text NOT NULL CHECK (direction IN ('in', 'out')),
    author_kind       text NOT NULL CHECK (author_kind IN ('contact', 'agent', 'rep', 'system')),
    author_name       text NOT NULL DEFAULT '',
    author_address    text NOT NULL DEFAULT '',
    sent_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    subject           text NOT NULL DEFAULT '',
    text              text NOT NULL DEFAULT '',
    raw_mime          bytea,
    message_id_header text,
    in_reply_to       text,
    "references"      text[] NOT NULL DEFAULT '{}',
    attachments       jsonb NOT NULL DEFAULT '[]'::jsonb,
    sf_record_id      text,          -- the CaseComment / EmailMessage a rep wrote
    sf_comment_id     text,          -- the CaseComment that carries this message
    push_started_at   timestamptz,   -- "comment push started", set BEFORE calling Salesforce
    delivery_status   text NOT NULL DEFAULT 'none'
        CHECK (delivery_status IN ('none', 'pending', 'sent', 'failed')),
    delivery_error    text
);
CREATE UNIQUE INDEX email_messages_sf_record_idx ON email_messages (workspace_id, sf_record_id);
CREATE INDEX email_messages_session_idx ON email_messages (workspace_id, session_id, id);
CREATE INDEX email_messages_msgid_idx ON email_messages (workspace_id, message_id_header);

CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    workspace_id    text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id      bigint NOT NULL REFERENCES email_messages (id) ON DELETE CASCADE,
    mail_from       text NOT NULL,
    "to"            text[] NOT NULL,
    message_id_header text NOT NULL,
    raw             bytea NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at         timestamptz,
    transport       text
);
CREATE UNIQUE INDEX outbox_message_idx ON outbox (workspace_id, message_id);

CREATE TABLE dev_mailbox (
    id            bigserial PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    envelope_from text NOT NULL,
    "to"          text[] NOT NULL,
    subject       text NOT NULL DEFAULT '',
    raw           bytea NOT NULL
);
CREATE INDEX dev_mailbox_workspace_idx ON dev_mailbox (workspace_id, id DESC);
