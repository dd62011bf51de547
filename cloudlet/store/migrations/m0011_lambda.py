"""Lambda: functions, versions, aliases, layers, URLs, event source mappings."""


def migrate(conn):
    pass
