"""sfbridge's Salesforce client: OAuth, sessions, typed errors, retries, budget, batching.

Import the modules, not names from here: ``from sfbridge.salesforce import client, oauth``.

Wiring one connection (the composition root does this)::

    http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))   # one per process
    budget = governor.Governor()                                        # one per process
    sessions = session.SessionManager(
        storage=PgTokenStorage(...),              # tokens.TokenStorage, encrypted at rest
        renewer=session.RefreshTokenRenewer(http=http, login_url=..., app=oauth.AppCredentials(...)),
        lock=PgAdvisoryRefreshLock(...),          # tokens.RefreshLock, cross-process
    )
    sf = client.SalesforceClient(http, sessions, governor=budget, recorder=trace_recorder)
    async for row in sf.query(soql.format_soql("SELECT Id FROM Contact WHERE Email = {}", email)):
        ...

Modules: ``errors`` (the tree and the status/errorCode table), ``oauth`` (login-URL policy,
PKCE, grants, revoke, identity), ``tokens`` (TokenSet, storage and lock seams), ``session``
(single-flight refresh, renewers), ``client`` (REST calls), ``retry``, ``governor``,
``limits_header``, ``batching`` (composite and collections), ``soql`` (quoting),
``recorder`` (trace lines), ``transport`` (httpx exception translation), ``clock``.
"""
