"""Lambda's execution environments: real OS processes speaking Lambda's Runtime API.

    engine.py       the interface the Lambda provider uses (FunctionSpec, Invocation, Result,
                    LambdaEngine)
    local.py        LocalEngine, the implementation: pools of environments per spec key
    environment.py  one execution environment: its process, its output, one run at a time
    runtime_api.py  Lambda's Runtime API (2018-06-01), one endpoint per environment
    sandbox.py      mount namespaces, cgroups and unprivileged uids, detected once
    runtime/        Cloudlet's own Python and Node.js runtimes (bootstrap.py, bootstrap.js)
"""

from cloudlet.engines.lambda_.local import LocalEngine

__all__ = ["LocalEngine"]
