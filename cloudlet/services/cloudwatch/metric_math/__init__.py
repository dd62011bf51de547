"""CloudWatch metric math: the expression language of GetMetricData and alarms.

    tree = parse("SUM(METRICS()) / PERIOD(m1)")     # raises MathError with the position
    validate(tree)                                    # unknown functions, argument counts
    value = evaluate(tree, env)                       # a float, a Series or a list of Series

    values.py       scalars, time series and arrays of them; MathError; the Environment
    parser.py       the grammar, the parser and the ids an expression references
    evaluation.py   the operators, the function table and the evaluator

Values are scalars, time series (timestamps ascending) and arrays of time series. The
environment answers what the expression cannot know alone: the series of another query
(`ref`), the request's metrics (`metrics`), SEARCH, and the time grid of a period
(queries.py provides the real one).
"""

from cloudlet.services.cloudwatch.metric_math.evaluation import FUNCTIONS, evaluate, validate
from cloudlet.services.cloudwatch.metric_math.parser import parse, references, tokenize
from cloudlet.services.cloudwatch.metric_math.values import Environment, MathError, Series

__all__ = ["FUNCTIONS", "Environment", "MathError", "Series", "evaluate", "parse",
           "references", "tokenize", "validate"]
