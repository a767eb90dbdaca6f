"""The IAM of the deploy path, checked offline (security review M5).

1. template.yaml as SAM transforms it: every role the stack creates carries the permissions
   boundary (infra/permissions-boundary.json) the deployer policy requires, so a deployer
   cannot make a role stronger than the boundary.
2. The deployer policies and the boundary, linted by parliament (Duo Labs' IAM linter): no
   unknown action, no malformed condition or resource, no finding left unexplained.
3. The deployer policy creates and writes roles only with that boundary, cannot take it off or
   rewrite it, and each policy stays within IAM's 6,144 characters.
"""

import json
import os
import sys
from pathlib import Path

import yaml
from parliament import analyze_policy_string
from samtranslator.translator.transform import transform

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
ROOT = Path(__file__).resolve().parents[2]
POLICIES = [
    "deployer-policy.json",
    "deployer-policy-event-log.json",
    "deployer-policy-iam.json",
    "permissions-boundary.json",
]
# parliament findings that are understood (each says why); any other fails the check
UNDERSTOOD = {
    # the boundary and the deployer name services' actions on "*" where the service has no
    # resource-level permission for them (logs, X-Ray, metrics, SES sending, validation)
    "RESOURCE_STAR",
    # a wildcard action (s3:*, cloudformation:Describe*) also matches actions on other
    # resource types (access points, stack sets); the statements name only journey-*
    # resources, so those never match and grant nothing
    "RESOURCE_MISMATCH",
    # the stack owns its event-log bucket's policy and lifecycle (template.yaml), so the
    # deployer writes them; on journey-* buckets only
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
}
# the SAM transform's ARN names the account `aws`: parliament expects a number there
TRANSFORM = "arn:aws:cloudformation:us-east-1:aws:transform/"
BOUNDARY = "arn:aws:iam::ACCOUNT_ID:policy/journey-permissions-boundary"


def cfn_loader():
    """A YAML loader that keeps CloudFormation's short intrinsics (!Ref, !Sub …) as data."""

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader, suffix, node):
        name = "Ref" if suffix == "Ref" else "Fn::" + suffix
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", intrinsic)
    return Loader


def roles_without_boundary():
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=cfn_loader())
    # as `sam deploy` hands it over: the code already uploaded
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)

    class NoManagedPolicies:
        def load(self):
            return {}

    out = transform(template, {}, NoManagedPolicies())
    roles = {n: r for n, r in out["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    missing = [n for n, r in roles.items() if "PermissionsBoundary" not in r.get("Properties", {})]
    return len(roles), missing


def lint(name):
    text = (
        (ROOT / "infra" / name)
        .read_text()
        .replace("REGION", "us-east-1")
        .replace("ACCOUNT_ID", "123456789012")
        .replace("SENDER_DOMAIN", "example.com")
    )
    policy = analyze_policy_string(text)
    return [
        f
        for f in policy.findings
        if f.issue not in UNDERSTOOD and not (f.issue == "INVALID_ARN" and TRANSFORM in str(f.location))
    ]


def boundary_required(policy):
    """Every statement letting the deployer create a role or write its policies names the
    boundary; the boundary cannot be removed nor rewritten."""
    writes = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}
    problems = []
    for s in policy["Statement"]:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if s["Effect"] == "Allow" and writes & set(actions):
            named = s.get("Condition", {}).get("ArnEquals", {}).get("iam:PermissionsBoundary")
            if named != BOUNDARY:
                problems.append(f"{s.get('Sid')}: role writes without the boundary condition")
        if s["Effect"] == "Allow" and {"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:*"} & set(actions):
            problems.append(f"{s.get('Sid')}: may remove or rewrite the boundary")
    return problems


def main():
    failed = False
    count, missing = roles_without_boundary()
    if missing:
        print(f"roles without the permissions boundary: {missing}", file=sys.stderr)
        failed = True
    for name in POLICIES:
        text = (ROOT / "infra" / name).read_text()
        if len(json.dumps(json.loads(text), separators=(",", ":"))) > 6144:
            print(f"{name}: over IAM's 6,144 characters", file=sys.stderr)
            failed = True
        for finding in lint(name):
            print(f"{name}: parliament {finding.issue} {finding.detail} {finding.location}", file=sys.stderr)
            failed = True
    for name in POLICIES[:3]:
        for problem in boundary_required(json.loads((ROOT / "infra" / name).read_text())):
            print(f"{name}: {problem}", file=sys.stderr)
            failed = True
    if failed:
        sys.exit(1)
    print(f"iam: {count} roles of the transformed template carry the boundary; {len(POLICIES)} policies lint clean (parliament), within size, and role writes need the boundary")


main()
