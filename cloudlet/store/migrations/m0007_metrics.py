"""CloudWatch metrics: series and datapoints at each resolution."""


def migrate(conn):
    pass
