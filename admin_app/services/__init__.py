"""The rules of the practice: plain functions over a database session, no HTTP, no HTML."""
