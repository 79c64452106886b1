"""Every stack of aTES, transformed by SAM's translator (samtranslator, which cfn-lint brings),
with its CloudFormation resource count; fails when one passes LIMIT.

CloudFormation refuses a stack of more than 500 resources. The root stack (template.yaml) and
each context's nested stack (the `Location` of its AWS::Serverless::Application) are counted
after SAM's transform, which is what CloudFormation sees: a function is its role too, an SQS
event its event source mapping, a ScheduleV2 its schedule and role. LIMIT leaves room to grow.

    python infra/stack_sizes.py [template.yaml]      (make lint runs it)
"""

import copy
import os
import sys
from pathlib import Path

from cfnlint.decode import decode
from samtranslator.parser import parser
from samtranslator.translator.translator import Translator

LIMIT = 350


def load(path):
    template, matches = decode(str(path))
    if matches or template is None:
        sys.exit(f"{path}: cannot read it: {[str(m) for m in matches]}")
    return template


def nested(root_path, template):
    """(logical id, path) of each nested stack whose template is a file of this repository."""
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") not in ("AWS::Serverless::Application", "AWS::CloudFormation::Stack"):
            continue
        properties = resource.get("Properties", {})
        location = properties.get("Location", properties.get("TemplateURL"))
        if isinstance(location, str) and "://" not in location:
            yield logical_id, root_path.parent / location


def transformed_count(path, template):
    template = copy.deepcopy(template)
    # The translator wants code in S3, as `sam package` leaves it; where it is does not change
    # the resources.
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function":
            properties["CodeUri"] = "s3://bucket/code.zip"
        if resource.get("Type") == "AWS::Serverless::Application":
            properties["Location"] = "https://s3.amazonaws.com/bucket/nested.yaml"
    if template.get("Globals", {}).get("Function", {}).get("CodeUri"):
        template["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    translator = Translator(managed_policy_map={}, sam_parser=parser.Parser())
    output = translator.translate(sam_template=template, parameter_values={})
    return len(output["Resources"])


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
    root_template = load(root)
    stacks = [(root, root_template)]
    for _, path in nested(root, root_template):
        stacks.append((path, load(path)))
    if len(stacks) == 1:
        sys.exit(f"{root}: no nested stack found")
    over = []
    print(f"resources per stack after SAM's transform (limit {LIMIT}; CloudFormation's is 500):")
    for path, template in stacks:
        count = transformed_count(path, template)
        print(f"  {count:4d}  {path}")
        if count > LIMIT:
            over.append(f"{path}: {count}")
    if over:
        sys.exit(f"stacks past {LIMIT} resources: {', '.join(over)}; split them")


if __name__ == "__main__":
    main()
