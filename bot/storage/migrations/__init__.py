"""Alembic migrations of the ticket database (run by `egov-bot db upgrade` and at `egov-bot run`)."""
