-- Email cases (see migrations/0002_email_cases.sql). Every statement filters on
-- %(workspace_id)s except email_address_resolve, which FINDS the workspace of a recipient.

-- ===== mail addresses =================================================================

-- name: email_address_resolve
-- Finds the workspace owning a recipient address (the SMTP RCPT check).
SELECT workspace_id FROM mail_addresses WHERE address = lower(%(address)s);

-- name: email_address_add
INSERT INTO mail_addresses (address, workspace_id) VALUES (lower(%(address)s), %(workspace_id)s)
RETURNING address, workspace_id, created_at;

-- name: email_address_remove
DELETE FROM mail_addresses WHERE workspace_id = %(workspace_id)s AND address = lower(%(address)s);

-- name: email_address_list
SELECT address, workspace_id, created_at FROM mail_addresses
WHERE workspace_id = %(workspace_id)s ORDER BY created_at, address;

-- ===== per-workspace state ============================================================

-- name: email_state_ensure
INSERT INTO email_state (workspace_id, thread_secret) VALUES (%(workspace_id)s, %(secret)s)
ON CONFLICT (workspace_id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id
RETURNING workspace_id, thread_secret, case_fields, described_at;

-- name: email_state_set_case_fields
UPDATE email_state SET case_fields = %(case_fields)s, described_at = now()
WHERE workspace_id = %(workspace_id)s;

-- ===== inbound mail ===================================================================

-- name: email_inbound_insert
-- A copy (same bytes, same workspace) returns no row: the caller treats it as stored.
INSERT INTO inbound_mail (workspace_id, mail_from, rcpt, raw, digest, source, sender)
VALUES (%(workspace_id)s, %(mail_from)s, %(rcpt)s, %(raw)s, %(digest)s, %(source)s, %(sender)s)
ON CONFLICT (workspace_id, digest) DO NOTHING
RETURNING id;

-- name: email_inbound_find_digest
SELECT id FROM inbound_mail WHERE workspace_id = %(workspace_id)s AND digest = %(digest)s;

-- name: email_inbound_get
SELECT * FROM inbound_mail WHERE workspace_id = %(workspace_id)s AND id = %(inbound_id)s;

-- name: email_inbound_mark
UPDATE inbound_mail SET status = %(status)s, reason = %(reason)s, parse_error = %(parse_error)s,
    session_id = %(session_id)s
WHERE workspace_id = %(workspace_id)s AND id = %(inbound_id)s;

-- name: email_inbound_recent_times
-- When this sender's earlier mails arrived (the flood rule).
SELECT received_at FROM inbound_mail
WHERE workspace_id = %(workspace_id)s AND sender = %(sender)s AND id <> %(inbound_id)s
  AND received_at > %(since)s AND received_at <= %(until)s;

-- name: email_inbound_list
SELECT id, mail_from, rcpt, source, received_at, status, reason, parse_error, session_id, sender,
       length(raw) AS size
FROM inbound_mail WHERE workspace_id = %(workspace_id)s ORDER BY id DESC LIMIT %(limit)s;

-- ===== sessions =======================================================================

-- name: email_session_create
INSERT INTO email_sessions (id, workspace_id, contact_address, contact_name, subject,
    normalized_subject, thread_token, thread_index)
VALUES (%(id)s, %(workspace_id)s, lower(%(contact_address)s), %(contact_name)s, %(subject)s,
    %(normalized_subject)s, %(thread_token)s, %(thread_index)s)
RETURNING *;

-- name: email_session_get
SELECT * FROM email_sessions WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s;

-- name: email_session_get_for_update
SELECT * FROM email_sessions WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s
FOR UPDATE;

-- name: email_session_list
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(contact)s::text IS NULL OR contact_address = lower(%(contact)s))
  AND (%(before_updated)s::timestamptz IS NULL
       OR (updated_at, id) < (%(before_updated)s::timestamptz, %(before_id)s::text))
ORDER BY updated_at DESC, id DESC
LIMIT %(limit)s;

-- name: email_session_by_message_ids
SELECT DISTINCT ON (m.message_id_header) m.message_id_header, s.*
FROM email_messages m JOIN email_sessions s ON s.id = m.session_id AND s.workspace_id = m.workspace_id
WHERE m.workspace_id = %(workspace_id)s AND m.message_id_header = ANY(%(message_ids)s)
ORDER BY m.message_id_header, m.id DESC;

-- name: email_session_by_tokens
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s AND thread_token = ANY(%(tokens)s);

-- name: email_session_by_thread_index
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s AND thread_index = %(thread_index)s
ORDER BY last_activity_at DESC LIMIT 1;

-- name: email_session_recent_from_sender
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s AND contact_address = lower(%(contact_address)s)
  AND normalized_subject = %(normalized_subject)s AND last_activity_at > %(since)s
ORDER BY last_activity_at DESC LIMIT 20;

-- name: email_session_open_case_of_contact
-- The contact's newest session whose Case is open (a returning customer is appended to it).
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s AND contact_address = lower(%(contact_address)s)
  AND status = 'handed_off' AND case_id IS NOT NULL AND NOT case_closed
ORDER BY last_activity_at DESC LIMIT 1;

-- name: email_session_touch
UPDATE email_sessions SET last_activity_at = clock_timestamp(), updated_at = clock_timestamp()
WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s;

-- name: email_session_request_handoff
UPDATE email_sessions SET handoff_reason = %(reason)s,
    handoff_topic = coalesce(%(topic)s, handoff_topic),
    handoff_summary = coalesce(%(summary)s, handoff_summary),
    handoff_requested_at = coalesce(handoff_requested_at, clock_timestamp()),
    updated_at = clock_timestamp()
WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s
RETURNING *;

-- name: email_session_start_handoff
-- Record "handoff attempt started" before any Salesforce call (kept on retries).
UPDATE email_sessions SET handoff_started_at = coalesce(handoff_started_at, clock_timestamp()),
    handoff_upto = coalesce(handoff_upto, %(upto)s), updated_at = clock_timestamp()
WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s
RETURNING *;

-- name: email_session_handed_off
UPDATE email_sessions SET status = 'handed_off', case_id = %(case_id)s,
    case_number = %(case_number)s, case_closed = false, handoff_error = NULL,
    sf_cursor = coalesce(sf_cursor, handoff_started_at, clock_timestamp()),
    updated_at = clock_timestamp()
WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s;

-- name: email_session_handoff_error
UPDATE email_sessions SET handoff_error = %(error)s, updated_at = clock_timestamp()
WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s;

-- name: email_session_case_state
-- Closed -> resolved; reopened -> handed off; cursor moves forward only.
UPDATE email_sessions SET case_closed = %(closed)s,
    status = CASE WHEN %(closed)s THEN 'resolved' ELSE 'handed_off' END,
    resolved_at = CASE WHEN %(closed)s THEN coalesce(resolved_at, clock_timestamp()) ELSE NULL END,
    case_number = coalesce(%(case_number)s, case_number),
    sf_cursor = GREATEST(sf_cursor, %(cursor)s),
    updated_at = CASE WHEN case_closed IS DISTINCT FROM %(closed)s
        THEN clock_timestamp() ELSE updated_at END
WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s;

-- name: email_session_by_case
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s AND case_id = %(case_id)s
ORDER BY created_at DESC LIMIT 1;

-- name: email_session_handed_off_list
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s AND status = 'handed_off' AND case_id IS NOT NULL
ORDER BY id;

-- name: email_session_reopen
UPDATE email_sessions SET status = 'handed_off', case_closed = false, resolved_at = NULL,
    updated_at = clock_timestamp()
WHERE workspace_id = %(workspace_id)s AND id = %(session_id)s;

-- name: email_session_resolved_since
-- Resolved sessions whose Case may be reopened in Salesforce (the reconciliation's watch list).
SELECT * FROM email_sessions
WHERE workspace_id = %(workspace_id)s AND status = 'resolved' AND case_id IS NOT NULL
  AND resolved_at > %(since)s
ORDER BY id;

-- name: email_workspaces_to_reconcile
-- Global maintenance: the reconciliation visits every workspace with an open handoff or a
-- session resolved since %(resolved_since)s.
SELECT DISTINCT workspace_id FROM email_sessions
WHERE case_id IS NOT NULL
  AND (status = 'handed_off' OR (status = 'resolved' AND resolved_at > %(resolved_since)s));

-- ===== messages =======================================================================

-- name: email_message_insert
INSERT INTO email_messages (workspace_id, session_id, inbound_id, direction, author_kind,
    author_name, author_address, sent_at, subject, text, raw_mime, message_id_header,
    in_reply_to, "references", attachments, sf_record_id, delivery_status)
VALUES (%(workspace_id)s, %(session_id)s, %(inbound_id)s, %(direction)s, %(author_kind)s,
    %(author_name)s, %(author_address)s, coalesce(%(sent_at)s, clock_timestamp()), %(subject)s,
    %(text)s, %(raw_mime)s, %(message_id_header)s, %(in_reply_to)s, %(references)s,
    %(attachments)s, %(sf_record_id)s, %(delivery_status)s)
ON CONFLICT (workspace_id, sf_record_id) DO NOTHING
RETURNING *;

-- name: email_message_list
SELECT * FROM email_messages
WHERE workspace_id = %(workspace_id)s AND session_id = %(session_id)s ORDER BY sent_at, id;

-- name: email_message_get
SELECT * FROM email_messages WHERE workspace_id = %(workspace_id)s AND id = %(message_id)s;

-- name: email_message_last_inbound
SELECT * FROM email_messages
WHERE workspace_id = %(workspace_id)s AND session_id = %(session_id)s AND direction = 'in'
ORDER BY sent_at DESC, id DESC LIMIT 1;

-- name: email_message_thread_ids
SELECT message_id_header FROM email_messages
WHERE workspace_id = %(workspace_id)s AND session_id = %(session_id)s
  AND message_id_header IS NOT NULL
ORDER BY sent_at, id;

-- name: email_message_start_push
UPDATE email_messages SET push_started_at = coalesce(push_started_at, clock_timestamp())
WHERE workspace_id = %(workspace_id)s AND id = %(message_id)s
RETURNING *;

-- name: email_message_set_comment
UPDATE email_messages SET sf_comment_id = %(comment_id)s
WHERE workspace_id = %(workspace_id)s AND id = ANY(%(message_ids)s) AND sf_comment_id IS NULL;

-- name: email_message_set_delivery
UPDATE email_messages SET delivery_status = %(status)s, delivery_error = %(error)s
WHERE workspace_id = %(workspace_id)s AND id = %(message_id)s;

-- ===== outbox =========================================================================

-- name: email_outbox_insert
INSERT INTO outbox (workspace_id, message_id, mail_from, "to", message_id_header, raw)
VALUES (%(workspace_id)s, %(message_id)s, %(mail_from)s, %(to)s, %(message_id_header)s, %(raw)s)
RETURNING id;

-- name: email_outbox_get_for_update
SELECT * FROM outbox WHERE workspace_id = %(workspace_id)s AND id = %(outbox_id)s FOR UPDATE;

-- name: email_outbox_attempt
UPDATE outbox SET attempts = attempts + 1, last_error = %(error)s, status = %(status)s,
    next_attempt_at = %(next_attempt_at)s,
    sent_at = CASE WHEN %(status)s = 'sent' THEN clock_timestamp() ELSE sent_at END,
    transport = coalesce(%(transport)s, transport)
WHERE workspace_id = %(workspace_id)s AND id = %(outbox_id)s
RETURNING attempts;

-- name: email_outbox_list
SELECT id, message_id, mail_from, "to", message_id_header, status, attempts, last_error,
       next_attempt_at, created_at, sent_at, transport
FROM outbox WHERE workspace_id = %(workspace_id)s ORDER BY id DESC LIMIT %(limit)s;

-- ===== dev mailbox ====================================================================

-- name: email_dev_mailbox_insert
INSERT INTO dev_mailbox (workspace_id, envelope_from, "to", subject, raw)
VALUES (%(workspace_id)s, %(envelope_from)s, %(to)s, %(subject)s, %(raw)s)
RETURNING id;

-- name: email_dev_mailbox_list
SELECT id, at, envelope_from, "to", subject, raw FROM dev_mailbox
WHERE workspace_id = %(workspace_id)s ORDER BY id DESC LIMIT %(limit)s;

-- name: email_integration_user
-- The Salesforce user sfbridge writes as (its own writes are never rep replies).
SELECT user_id FROM sf_connections WHERE workspace_id = %(workspace_id)s;

-- name: email_message_set_header
UPDATE email_messages SET message_id_header = %(header)s
WHERE workspace_id = %(workspace_id)s AND id = %(message_id)s;

-- name: email_state_forget_case_fields
UPDATE email_state SET case_fields = NULL, described_at = NULL WHERE workspace_id = %(workspace_id)s;

-- name: email_events_mark_case
-- After a sync, this event and every earlier pending event of the same Case are done
-- (%(case_id)s is the 18-character id; an event may carry the 15-character one).
UPDATE webhook_events SET status = 'processed', processed_at = now(), error = NULL
WHERE workspace_id = %(workspace_id)s AND status = 'received'
  AND (id = %(event_id)s
       OR (left(btrim(query ->> 'caseId'), 15) = left(%(case_id)s, 15)
           AND received_at <= %(until)s));
