"""Numbered schema migrations: mNNNN_<name>.py, each with migrate(connection)."""
