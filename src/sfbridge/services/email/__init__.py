"""Email cases: conversations by email handed off to Salesforce Cases, and back."""
