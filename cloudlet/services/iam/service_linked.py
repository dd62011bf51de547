"""Service-linked roles: roles an AWS service owns, under `/aws-service-role/<service>/`,
trusting that service and holding its AWS-managed policy. Users create and delete them
through their own operations; DeleteRole, attaching, detaching and inline policies refuse
them (UnmodifiableEntity)."""

from __future__ import annotations

import json
import uuid

from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import InvalidInput, NoSuchEntity
from cloudlet.services.iam.identities import NAME_PATTERN, IamBase, check_pattern, now
from cloudlet.services.iam.store import IamStore

# service principal -> (role name, AWS-managed policy under aws-service-role/, custom suffix?)
SERVICES = {
    "autoscaling.amazonaws.com": ("AWSServiceRoleForAutoScaling", "AutoScalingServiceRolePolicy", True),
    "config.amazonaws.com": ("AWSServiceRoleForConfig", "AWSConfigServiceRolePolicy", False),
    "ecs.amazonaws.com": ("AWSServiceRoleForECS", "AmazonECSServiceRolePolicy", False),
    "eks.amazonaws.com": ("AWSServiceRoleForAmazonEKS", "AmazonEKSServiceRolePolicy", False),
    "elasticache.amazonaws.com": ("AWSServiceRoleForElastiCache", "ElastiCacheServiceRolePolicy", False),
    "elasticloadbalancing.amazonaws.com": ("AWSServiceRoleForElasticLoadBalancing",
                                           "AWSElasticLoadBalancingServiceRolePolicy", False),
    "events.amazonaws.com": ("AWSServiceRoleForCloudWatchEvents",
                             "CloudWatchEventsServiceRolePolicy", False),
    "guardduty.amazonaws.com": ("AWSServiceRoleForAmazonGuardDuty",
                                "AmazonGuardDutyServiceRolePolicy", False),
    "rds.amazonaws.com": ("AWSServiceRoleForRDS", "AmazonRDSServiceRolePolicy", False),
    "replicator.lambda.amazonaws.com": ("AWSServiceRoleForLambdaReplicator",
                                        "AWSLambdaReplicator", False),
    "spot.amazonaws.com": ("AWSServiceRoleForEC2Spot", "AWSEC2SpotServiceRolePolicy", False),
    "ssm.amazonaws.com": ("AWSServiceRoleForAmazonSSM", "AmazonSSMServiceRolePolicy", False),
    "support.amazonaws.com": ("AWSServiceRoleForSupport", "AWSSupportServiceRolePolicy", False),
    "trustedadvisor.amazonaws.com": ("AWSServiceRoleForTrustedAdvisor",
                                     "AWSTrustedAdvisorServiceRolePolicy", False),
}
SERVICE_ROLE_PATH = "/aws-service-role/"


class ServiceLinkedRoleOperations(IamBase):
    def create_service_linked_role(self, ctx: RequestContext, params: dict) -> dict:
        account, service = ctx.account_id, params["AWSServiceName"]
        if service not in SERVICES:
            raise InvalidInput(f"Service {service} does not support service-linked roles or "
                               "is not known to Cloudlet.")
        name, policy, suffix_allowed = SERVICES[service]
        suffix = params.get("CustomSuffix")
        if suffix:
            if not suffix_allowed:
                raise InvalidInput(f"Custom suffix is not allowed for {service}")
            check_pattern("CustomSuffix", suffix, NAME_PATTERN)
            name = f"{name}_{suffix}"
        if self.iam.entity("role", account, name) is not None:
            raise InvalidInput(f"Service role name {name} has been taken in this account, "
                               "please try a different suffix.")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}]})
        with self.iam.transaction() as conn:
            IamStore.insert(conn, "iam_roles", {
                "account": account, "name": name, "id": self._unique_id("AROA"),
                "path": f"{SERVICE_ROLE_PATH}{service}/", "created": now(),
                "trust_policy": trust, "description": params.get("Description"),
                "max_session_duration": 3600, "boundary": None})
            IamStore.insert(conn, "iam_attachments", {
                "account": account, "policy_arn": f"arn:aws:iam::aws:policy/aws-service-role/{policy}",
                "entity_type": "role", "entity_name": name})
        return {"Role": self._role_shape(self._role(account, name))}

    def delete_service_linked_role(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        row = self._role(account, params["RoleName"])
        if not row["path"].startswith(SERVICE_ROLE_PATH):
            raise InvalidInput(f"Role {row['name']} is not a service-linked role.")
        service = row["path"][len(SERVICE_ROLE_PATH):].strip("/")
        task = f"task/aws-service-role/{service}/{row['name']}/{uuid.uuid4()}"
        with self.iam.transaction() as conn:
            for table in ("iam_attachments", "iam_inline_policies", "iam_tags"):
                conn.execute(f"DELETE FROM {table} WHERE account=? AND entity_type='role' "
                             "AND entity_name=?", (account, row["name"]))
            conn.execute("DELETE FROM iam_roles WHERE account=? AND name=?", (account, row["name"]))
            conn.execute("INSERT INTO records (service, account, region, kind, key, value) "
                         "VALUES ('iam', ?, '', 'slr-deletion', ?, ?)",
                         (account, task, json.dumps({"Status": "SUCCEEDED"})))
        return {"DeletionTaskId": task}

    def get_service_linked_role_deletion_status(self, ctx: RequestContext, params: dict) -> dict:
        rows = self.iam.db.query("SELECT value FROM records WHERE service='iam' AND account=? "
                                 "AND region='' AND kind='slr-deletion' AND key=?",
                                 (ctx.account_id, params["DeletionTaskId"]))
        if not rows:
            raise NoSuchEntity(f"Deletion task {params['DeletionTaskId']} cannot be found.")
        return json.loads(rows[0]["value"])
