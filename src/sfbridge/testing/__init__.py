"""Test helpers shipped with sfbridge (real Postgres, ...); used by our tests and e2e."""
