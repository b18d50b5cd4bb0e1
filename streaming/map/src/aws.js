// AWS SDK v3 clients of the page: guest (unauthenticated) credentials from the Cognito identity pool,
// a Kinesis client that uses them. The SDK retries are off: the stream readers retry with their own
// backoff and show the outage banner meanwhile.
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { fromCognitoIdentityPool } from "@aws-sdk/credential-provider-cognito-identity";

const REQUEST_TIMEOUT_MS = 15_000; // a slow answer is not an outage; a hung endpoint is one after this

export function kinesisClient(config) {
  const endpoint = config.endpoint ?? undefined;
  const credentials = fromCognitoIdentityPool({
    identityPoolId: config.identityPoolId,
    clientConfig: { region: config.region, endpoint, maxAttempts: 1, requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS } },
  });
  return new KinesisClient({
    region: config.region,
    endpoint,
    credentials,
    maxAttempts: 1,
    requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS },
  });
}
