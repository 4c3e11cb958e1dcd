"""Builds a small account in a moto server with boto3, for the moto integration test.

Usage: python3 build-account.py ENDPOINT_URL  -> prints a JSON description of what it built.
Objects are uploaded before any Deny policy: moto enforces bucket policies on object calls
and ignores their conditions.
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
common = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
kms = {r: boto3.client("kms", region_name=r, **common) for r in ("us-east-1", "eu-west-1")}
s3 = {r: boto3.client("s3", region_name=r, **common) for r in ("us-east-1", "eu-west-1")}


def key(region, description):
    meta = kms[region].create_key(Description=description)["KeyMetadata"]
    return meta["KeyId"], meta["Arn"]


def bucket(name, region):
    if region == "us-east-1":
        s3[region].create_bucket(Bucket=name)
    else:
        s3[region].create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
        )
    return s3[region]


def kms_default(client, name, arn=None):
    rule = {"SSEAlgorithm": "aws:kms"}
    if arn:
        rule["KMSMasterKeyID"] = arn
    client.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": True}]
        },
    )


def tls_policy(name):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


good_id, good = key("eu-west-1", "healthy key")
kms["eu-west-1"].enable_key_rotation(KeyId=good_id)
other_id, other = key("eu-west-1", "another team's key")
disabled_id, disabled = key("us-east-1", "disabled key")
pending_id, pending = key("us-east-1", "key pending deletion")

# A KMS bucket whose objects all use its default key: every object rule passes.
c = bucket("moto-kms-good", "eu-west-1")
kms_default(c, "moto-kms-good", good)
for i in range(3):
    c.put_object(Bucket="moto-kms-good", Key=f"data/{i}.json", Body=b"{}",
                 ServerSideEncryption="aws:kms", SSEKMSKeyId=good)

# Legacy plaintext objects (moto stores objects of a bucket without a default unencrypted).
c = bucket("moto-legacy-plaintext", "us-east-1")
c.put_object(Bucket="moto-legacy-plaintext", Key="old/report.csv", Body=b"a,b\n")
c.put_object(Bucket="moto-legacy-plaintext", Key="old/other.csv", Body=b"a,b\n",
             ServerSideEncryption="AES256")

# Objects under a key that was disabled after they were written.
c = bucket("moto-disabled-key", "us-east-1")
kms_default(c, "moto-disabled-key", disabled)
c.put_object(Bucket="moto-disabled-key", Key="locked.bin", Body=b"x",
             ServerSideEncryption="aws:kms", SSEKMSKeyId=disabled)
kms["us-east-1"].disable_key(KeyId=disabled_id)

# Objects under a key that is scheduled for deletion.
c = bucket("moto-pending-deletion", "us-east-1")
kms_default(c, "moto-pending-deletion", pending)
c.put_object(Bucket="moto-pending-deletion", Key="doomed.bin", Body=b"x",
             ServerSideEncryption="aws:kms", SSEKMSKeyId=pending)
kms["us-east-1"].schedule_key_deletion(KeyId=pending_id, PendingWindowInDays=7)

# Objects under a key other than the default, and objects weaker than the default.
c = bucket("moto-mixed", "eu-west-1")
kms_default(c, "moto-mixed", good)
c.put_object(Bucket="moto-mixed", Key="ours.bin", Body=b"x",
             ServerSideEncryption="aws:kms", SSEKMSKeyId=good)
c.put_object(Bucket="moto-mixed", Key="theirs.bin", Body=b"x",
             ServerSideEncryption="aws:kms", SSEKMSKeyId=other)
c.put_object(Bucket="moto-mixed", Key="weak.bin", Body=b"x", ServerSideEncryption="AES256")

# aws/s3 objects: moto names no key for them, so key-level rules cannot judge them.
c = bucket("moto-aws-managed", "us-east-1")
kms_default(c, "moto-aws-managed")
c.put_object(Bucket="moto-aws-managed", Key="managed.bin", Body=b"x",
             ServerSideEncryption="aws:kms")

# A TLS-only policy: moto ignores its condition, so every HEAD is denied. Nothing was seen.
c = bucket("moto-tls-locked", "us-east-1")
c.put_object(Bucket="moto-tls-locked", Key="secret.txt", Body=b"x", ServerSideEncryption="AES256")
c.put_bucket_policy(Bucket="moto-tls-locked", Policy=tls_policy("moto-tls-locked"))

# A versioned bucket whose current version was re-encrypted over an old plaintext one.
c = bucket("moto-versions", "us-east-1")
c.put_bucket_versioning(Bucket="moto-versions", VersioningConfiguration={"Status": "Enabled"})
c.put_object(Bucket="moto-versions", Key="doc.txt", Body=b"v1")
c.put_object(Bucket="moto-versions", Key="doc.txt", Body=b"v2", ServerSideEncryption="AES256")

print(json.dumps({"keys": {"good": good, "other": other, "disabled": disabled, "pending": pending}}))
