"""The HTTP edge: JSON API, the Salesforce webhook and the admin pages."""
