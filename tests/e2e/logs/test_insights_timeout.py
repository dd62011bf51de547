"""A query that outlives CLOUDLET_LOGS_QUERY_TIMEOUT ends in status Timeout, with no results."""

import time


def test_query_times_out(fresh_cloudlet):
    server = fresh_cloudlet(data_dir=None, env={"CLOUDLET_BODY_TIMEOUT": "3",
                                                "CLOUDLET_LOGS_QUERY_TIMEOUT": "0.001"})
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/slow")
    logs.create_log_stream(logGroupName="/slow", logStreamName="s")
    base = int(time.time() * 1000) - 60_000
    for batch in range(4):
        logs.put_log_events(logGroupName="/slow", logStreamName="s", logEvents=[
            {"timestamp": base + batch * 5000 + i, "message": f"line {batch} {i} " + "x" * 100}
            for i in range(5000)])
    now = int(time.time())
    qid = logs.start_query(logGroupName="/slow", startTime=now - 300, endTime=now + 60,
                           queryString="filter @message like /(?i)x{50}/ "
                                       "| stats count(*) by bin(1s), strlen(@message)")["queryId"]
    deadline = time.monotonic() + 30
    while True:
        result = logs.get_query_results(queryId=qid)
        if result["status"] not in ("Scheduled", "Running") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert result["status"] == "Timeout"
    assert result["results"] == []
    (info,) = [q for q in logs.describe_queries(logGroupName="/slow")["queries"]
               if q["queryId"] == qid]
    assert info["status"] == "Timeout"
