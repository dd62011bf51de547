"""Lambda's execution environments: real OS processes speaking Lambda's Runtime API.

    engine.py     the interface the Lambda provider uses (FunctionSpec, Invocation, Result,
                  LambdaEngine)
"""
