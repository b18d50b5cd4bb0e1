// AWS SDK v3 clients of the page: guest (unauthenticated) credentials from the Cognito identity pool, a Kinesis
// client that uses them. The SDK retries are off: the stream readers retry with their own backoff and show the
// outage banner meanwhile.
//
// The credentials come from Cognito's basic (classic) flow: GetId, GetOpenIdToken, then STS
// AssumeRoleWithWebIdentity with the pool's guest role. The enhanced flow scopes
// guests down to a session policy that does not allow reading Kinesis (docs/aws.md).
import { CognitoIdentityClient, GetIdCommand, GetOpenIdTokenCommand } from "@aws-sdk/client-cognito-identity";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { fromWebToken } from "@aws-sdk/credential-provider-web-identity";

const REQUEST_TIMEOUT_MS = 15_000; // a slow answer is not an outage; a hung endpoint is one after this
const REFRESH_BEFORE_MS = 5 * 60_000; // new credentials this long before the current ones expire

/** A credential provider: the guest role's credentials, renewed before they expire. */
export function guestCredentials(config) {
  const clientConfig = { region: config.region, endpoint: config.endpoint ?? undefined, maxAttempts: 1,
                         requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS } };
  const cognito = new CognitoIdentityClient(clientConfig);
  let identityId = null;
  let current = null;
  return async () => {
    if (current && (!current.expiration || current.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS)) {
      return current;
    }
    identityId ??= (await cognito.send(new GetIdCommand({ IdentityPoolId: config.identityPoolId }))).IdentityId;
    const { Token } = await cognito.send(new GetOpenIdTokenCommand({ IdentityId: identityId }));
    current = await fromWebToken({ roleArn: config.guestRoleArn, webIdentityToken: Token,
                                   roleSessionName: "wildrydes-map", clientConfig })();
    return current;
  };
}

export function kinesisClient(config) {
  return new KinesisClient({
    region: config.region,
    endpoint: config.endpoint ?? undefined,
    credentials: guestCredentials(config),
    maxAttempts: 1,
    requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS },
  });
}
