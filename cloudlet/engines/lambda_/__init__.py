"""Lambda's execution environments: real OS processes speaking Lambda's Runtime API.

    engine.py       the interface the Lambda provider uses (FunctionSpec, Invocation, Result,
                    LambdaEngine)
    local.py        LocalEngine, the implementation: pools of environments per spec key
    environment.py  one execution environment: its process, its output, one run at a time
    runtime_api.py  Lambda's Runtime API (2018-06-01), one endpoint per environment
    network.py      each environment's network namespace: only lo, where Cloudlet listens
                    for the Runtime API (127.0.0.1:9001) and its own API (127.0.0.1:4566)
    sandbox.py      mount and PID namespaces, cgroups (memory, CPU, pids: 1,024 processes)
                    and unprivileged uids, detected once
    zygote.py       the engine's side of the zygote that forks environments
    runtime/        Cloudlet's own Python and Node.js runtimes (bootstrap.py, bootstrap.js)
                    and the zygote itself (zygote.py)

Settings: CLOUDLET_LAMBDA_IDLE (seconds before an idle environment is reaped, default 300),
CLOUDLET_LAMBDA_CPU=off (no CPU quota), CLOUDLET_LAMBDA_CGROUPS=off, CLOUDLET_LAMBDA_SANDBOX=off
(no mount namespaces), CLOUDLET_LAMBDA_ZYGOTE=off (start each environment through the shell).
"""

from cloudlet.engines.lambda_.local import LocalEngine

__all__ = ["LocalEngine"]
