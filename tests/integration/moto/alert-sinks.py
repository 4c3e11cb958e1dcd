"""Sets up and reads back the alert sinks in a moto server, for the moto alerts test.

Usage:
  python3 alert-sinks.py ENDPOINT setup  -> {"topicArn", "snsQueue", "eventsQueue"}
  python3 alert-sinks.py ENDPOINT read SNS_QUEUE_URL EVENTS_QUEUE_URL
     -> {"sns": [messages], "events": [events], "findings": [Security Hub findings]}
SNS delivers to an SQS queue subscribed to the topic; EventBridge delivers through a rule
on the default bus (source s3scan) to another queue; Security Hub is read with GetFindings.
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
common = dict(
    endpoint_url=endpoint,
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    region_name="us-east-1",
)
sns = boto3.client("sns", **common)
sqs = boto3.client("sqs", **common)
events = boto3.client("events", **common)
# The demo account's buckets are in these regions; Security Hub keeps each region's findings.
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
hubs = {r: boto3.client("securityhub", **dict(common, region_name=r)) for r in REGIONS}


def queue(name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(url):
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        for message in got:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


if sys.argv[2] == "setup":
    topic = sns.create_topic(Name="s3scan-alerts")["TopicArn"]
    sns_url, sns_arn = queue("s3scan-sns")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_arn)
    events_url, events_arn = queue("s3scan-events")
    events.put_rule(Name="s3scan", EventPattern=json.dumps({"source": ["s3scan"]}))
    events.put_targets(Rule="s3scan", Targets=[{"Id": "queue", "Arn": events_arn}])
    for hub in hubs.values():
        hub.enable_security_hub()
    print(json.dumps({"topicArn": topic, "snsQueue": sns_url, "eventsQueue": events_url}))
else:
    findings = []
    for hub in hubs.values():
        token = None
        while True:
            page = hub.get_findings(MaxResults=100, **({"NextToken": token} if token else {}))
            findings.extend(page["Findings"])
            token = page.get("NextToken")
            if not token:
                break
    print(
        json.dumps(
            {"sns": drain(sys.argv[3]), "events": drain(sys.argv[4]), "findings": findings},
            default=str,
        )
    )
