"""IAM: users, groups, roles, policies, access keys, and the policy simulator."""
