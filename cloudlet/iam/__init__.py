"""IAM on the request path: what each operation asks for (`actions`, `s3`), the request's
condition keys (`context`), the cached reads of identities and policies (`reads`), and the
gateway's authorize step that puts them before the policy engine (`authorizer`)."""
