"""Logs Insights: the query language, compiled to SQL over the event store (DuckDB).

    syntax.py       tokens and the syntax tree (every node knows its offsets in the query)
    query.py        the parser: query text -> commands
    functions.py    each Insights function and aggregate as the SQL it becomes
    regex.py        Insights regexes on RE2 (linear time; named groups; refusals at compile)
    expressions.py  fields, operators and calls -> SQL (JSON and Lambda fields discovered)
    compiler.py     commands -> one SQL statement of CTEs, plus the statistics queries
    results.py      rows as AWS returns them ({field, value}, strings, @ptr)
    runner.py       the worker pool, statuses, StopQuery and the timeout
    operations.py   StartQuery, GetQueryResults, StopQuery, DescribeQueries
"""
