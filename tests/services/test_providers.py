"""Each provider's docstring is the map of its families: it names every file in which one
of its operations is implemented."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest
from botocore import xform_name

from cloudlet.models import service_model
from cloudlet.services import provider_class


@pytest.mark.parametrize("service", ["iam", "sts", "lambda", "logs", "sns", "scheduler", "s3", "rds", "cloudwatch"])
def test_the_provider_docstring_names_every_file_of_its_operations(service):
    cls = provider_class(service)
    package = Path(inspect.getsourcefile(cls)).parent
    files = {Path(inspect.getsourcefile(getattr(cls, xform_name(op)))).relative_to(package)
             for op in service_model(service).operation_names if cls.has_operation(op)}
    docstring = sys.modules[cls.__module__].__doc__
    assert files and not [str(f) for f in files if str(f) not in docstring]
