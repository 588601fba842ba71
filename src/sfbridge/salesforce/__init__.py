"""sfbridge's Salesforce client: OAuth, sessions, typed errors, retries, budget, batching.

Import the modules, not names from here: ``from sfbridge.salesforce import client, oauth``.
"""
