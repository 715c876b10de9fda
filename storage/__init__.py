"""Persistence: the repository port, its SQLAlchemy adapter, an in-memory fake and the migrations."""
