"""Which IAM authorizations an AWS API request needs: the action(s), the resource ARN(s) and request condition keys.

A pure mapping from one request of the local endpoint (service, operation, method, path, query, headers, body)
to the ``Access`` entries an IAM policy evaluator must allow, for the services the endpoint serves: kinesis,
dynamodb, s3, sqs, glue, lambda, firehose, athena, sts, iam, logs, cognito-identity and cloudformation.

Sources: the AWS Service Authorization Reference ("Actions, resources, and condition keys for <service>", which gives
each service's IAM prefix, its actions, the resource types and ARN formats each action is authorized on and its
condition keys), the Amazon S3 user guide's "Required permissions for Amazon S3 API operations" (S3 operation →
action table), the Lambda developer guide's "Resource and condition keys for Lambda actions" and the AWS SDK
service models (operation names, JSON members, Lambda REST request URIs; botocore's models only check this module in
its tests, they are not read at runtime).

Conventions:

* ``accesses()`` returns the authorizations that must ALL be allowed. An empty list means the operation needs no IAM
  authorization at all: a public Cognito identity operation (``is_public``). STS AssumeRoleWithWebIdentity and
  AssumeRoleWithSAML are public too (unsigned) but still return their Access: the caller evaluates the role's trust
  policy for them, not identity policies.
* A resource of ``"*"`` means the action is not authorized on a resource type (List*, account-level operations),
  or the request does not name the resource.
* ``UnmappedRequest`` is raised when the operation (or the resources of a multi-resource operation) cannot be
  determined; in enforce mode the gateway then denies the request with that message.
* ``RequestInfo.headers``: any mapping; keys are matched case-insensitively (this module lower-cases them).

Known approximations (documented where they are made): IAM role/user/group ARNs are built without their path
(``role/{RoleName}``) except on Create*, whose Path is in the request; DynamoDB ``dynamodb:LeadingKeys`` is only given
for a single-attribute ``Key`` (a hash-key-only table), so policies using ``ForAllValues`` on it are otherwise met
vacuously; DynamoDB PartiQL statements are authorized by their verb (PartiQLSelect/Insert/Update/Delete) on the table
named after FROM/INTO/UPDATE when a simple parse finds it, else on ``"*"``; Kinesis GetRecords without StreamARN is
authorized on the stream of its iterator only when a decoder is passed (``kinesalite_iterator_stream`` for
kinesalite), else on ``stream/*`` — a policy granting GetRecords on one named stream then denies it; Athena
operations naming only a query execution id are authorized on ``workgroup/*`` unless ``workgroup_of_query`` resolves
it; CBOR-encoded (``application/x-amz-cbor-1.1``) Kinesis bodies are not decoded (UnmappedRequest).

Modules, one job each, each importing only those below it:

- ``dispatch``             the entry points: ``operation_of``, ``is_public``, ``accesses``, by service
- ``s3``                   S3 actions, on bucket and object ARNs, with their condition keys
- ``s3_operations``        which S3 REST operation a request is, on which bucket and key
- ``lambda_service``       Lambda function, layer and event source mapping ARNs
- ``lambda_routes``        Lambda's REST routes (``LAMBDA_ROUTES``) and the route of a request
- ``kinesis``              Kinesis streams and consumers
- ``kinesalite_iterators`` the stream inside a kinesalite shard iterator (``kinesalite_iterator_stream``)
- ``aes``                  AES-256-CBC decryption in pure Python
- ``dynamodb``             DynamoDB tables, indexes, batches, transactions, PartiQL
- ``glue``                 Glue catalog, database and table ARNs
- ``athena``               Athena workgroups, data catalogs, query executions
- ``json_services``        Firehose, CloudWatch Logs, Cognito Identity
- ``query_services``       SQS, STS, IAM, CloudFormation
- ``parsing``              headers, JSON bodies and query parameters of a request
- ``model``                ``Access``, ``RequestInfo``, ``UnmappedRequest``, ARN and answer builders
"""

from __future__ import annotations

from localaws.iam.actions.dispatch import accesses, is_public, operation_of
from localaws.iam.actions.kinesalite_iterators import kinesalite_iterator_stream
from localaws.iam.actions.lambda_routes import LAMBDA_ROUTES
from localaws.iam.actions.model import Access, ContextValue, RequestInfo, UnmappedRequest

__all__ = [
    "LAMBDA_ROUTES",
    "Access",
    "ContextValue",
    "RequestInfo",
    "UnmappedRequest",
    "accesses",
    "is_public",
    "kinesalite_iterator_stream",
    "operation_of",
]
