"""The IAM policy language and its evaluation: pure, no I/O."""
