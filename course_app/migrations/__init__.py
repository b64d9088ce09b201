"""Alembic migrations of course_app (run: ``python -m course_app migrate``)."""
