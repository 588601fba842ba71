-- Email cases: the reconciliation also watches recently resolved sessions, so a Case
-- reopened in Salesforce is noticed even when its webhook never came.
CREATE INDEX email_sessions_resolved_idx ON email_sessions (workspace_id, resolved_at)
    WHERE status = 'resolved' AND case_id IS NOT NULL;
