"""SNS topics and subscriptions."""


def migrate(conn):
    pass
