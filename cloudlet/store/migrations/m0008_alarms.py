"""CloudWatch alarms and their history."""


def migrate(conn):
    pass
