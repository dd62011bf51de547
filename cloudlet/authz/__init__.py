"""The request authorizer: whether a request is allowed, before its provider runs. Not the
IAM service (that is `cloudlet.services.iam`); this asks it, and the policy engine decides.

    declarations.py  the types every action table is made of (Scope, Check, Declaration)
                     and the Service Authorization Reference's lookups
    actions.py       what each operation asks for: action(s), resource ARN(s)
    s3_actions.py    S3's action table, where API names and IAM actions part ways
    context.py       the request's condition keys
    reads.py         the cached reads of identities and policies
    authorizer.py    the gateway's authorize step that puts them before the policy engine
"""
