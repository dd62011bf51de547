import sys
from pathlib import Path

# Test-support modules (conformance loaders, harness) import by their plain names.
sys.path.insert(0, str(Path(__file__).parent / "protocols"))
