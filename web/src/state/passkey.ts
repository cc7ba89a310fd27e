// Passkeys in the browser: the server's WebAuthn options (binary values in base64url) turned
// into what navigator.credentials takes, and the authenticator's answer back into the JSON the
// server reads.

type Json = { [key: string]: unknown };

/** Bytes of a base64url text (padding optional). */
export function fromB64url(text: string): ArrayBuffer {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

/** Base64url text, unpadded, of bytes. */
export function toB64url(bytes: ArrayBuffer | ArrayBufferView): string {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let bin = "";
  for (const b of view) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A copy without `null` members (the browser refuses null where it wants a list or text). */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map(withoutNulls) as T;
  if (value && typeof value === "object") {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = withoutNulls(v);
    return out as T;
  }
  return value;
}

type Descriptor = { id: string; type: string; transports?: string[] };
const descriptors = (list: unknown) =>
  ((list as Descriptor[] | undefined) ?? []).map((c) => ({ ...c, id: fromB64url(c.id) }));

/** The options of `POST /api/v1/me/passkeys/registration` for `navigator.credentials.create`. */
export function creationOptions(options: Json): CredentialCreationOptions {
  const pk = withoutNulls(options.publicKey as Json);
  const user = pk.user as Json;
  return {
    publicKey: {
      ...pk,
      challenge: fromB64url(pk.challenge as string),
      user: { ...user, id: fromB64url(user.id as string) },
      excludeCredentials: descriptors(pk.excludeCredentials),
    } as unknown as PublicKeyCredentialCreationOptions,
  };
}

/** The options of `POST /api/v1/auth/passkey/challenge` for `navigator.credentials.get`. */
export function requestOptions(options: Json): CredentialRequestOptions {
  const pk = withoutNulls(options.publicKey as Json);
  return {
    publicKey: {
      ...pk,
      challenge: fromB64url(pk.challenge as string),
      allowCredentials: descriptors(pk.allowCredentials),
    } as unknown as PublicKeyCredentialRequestOptions,
  };
}

/** A new credential as the server reads it. */
export function registrationJson(cred: PublicKeyCredential): Json {
  const r = cred.response as AuthenticatorAttestationResponse;
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: { attestationObject: toB64url(r.attestationObject), clientDataJSON: toB64url(r.clientDataJSON) },
    clientExtensionResults: {},
  };
}

/** An assertion as the server reads it. */
export function assertionJson(cred: PublicKeyCredential): Json {
  const r = cred.response as AuthenticatorAssertionResponse;
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    clientExtensionResults: {},
  };
}

/** Whether this browser can use passkeys at all. */
export function passkeysSupported(): boolean {
  return typeof window !== "undefined" && "PublicKeyCredential" in window && !!navigator.credentials;
}

/** Asks the authenticator for a new passkey (the user verifies); its JSON. */
export async function createPasskey(options: Json): Promise<Json> {
  const cred = (await navigator.credentials.create(creationOptions(options))) as PublicKeyCredential | null;
  if (!cred) throw new DOMException("no credential", "NotAllowedError");
  return registrationJson(cred);
}

/** Asks the authenticator to sign the challenge with a passkey (the user verifies); its JSON. */
export async function getPasskey(options: Json): Promise<Json> {
  const cred = (await navigator.credentials.get(requestOptions(options))) as PublicKeyCredential | null;
  if (!cred) throw new DOMException("no credential", "NotAllowedError");
  return assertionJson(cred);
}
