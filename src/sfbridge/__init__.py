"""sfbridge: connect customer conversations (email, chat, phone) to Salesforce."""

__version__ = "0.1.0"
