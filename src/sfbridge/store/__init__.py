"""Postgres storage: the schema, migrations, every SQL statement, and the repositories.

``db.Database`` is the only code that executes SQL; repositories (``workspaces``,
``apikeys``, ``connections``, ``events``, ``traces``) run named queries from
``queries.sql`` inside a ``Transaction`` and take ``workspace_id`` so one workspace never
sees another's rows.
"""
