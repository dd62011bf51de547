"""RDS instances, clusters, snapshots, parameter groups, events."""


def migrate(conn):
    pass
