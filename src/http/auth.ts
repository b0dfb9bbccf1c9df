import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';

/** `Bearer <token>`; the scheme's name is case-insensitive (RFC 9110 11.1), spaces around the token are not part of it. */
const BEARER = /^bearer[ \t]+([^ \t].*?)[ \t]*$/i;

/**
 * Whether an Authorization header's value (undefined: none) is `Bearer <token>`. Both tokens are
 * hashed first, so the comparison takes the same time whatever the header's length and content.
 * No token: all pass.
 */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  if (token === '') return () => true;
  const matches = tokenCheck(token);
  return (authorization) => matches(BEARER.exec(authorization ?? '')?.[1]);
}

/**
 * Whether a given token (a byte string, as header values and RESP arguments are; undefined: none
 * given) is the UTF-8 of `token`, in a time that depends on neither: both are hashed first. Used
 * by the bearer check and by RESP's AUTH and HELLO.
 */
export function tokenCheck(token: string): (given: string | undefined) => boolean {
  const digest = (bytes: string): Buffer => createHash('sha256').update(bytes, 'latin1').digest();
  const expected = digest(Buffer.from(token, 'utf8').toString('latin1'));
  // A missing token is hashed too, so that its answer takes as long as a wrong one's.
  return (given) => timingSafeEqual(digest(given ?? ''), expected) && given !== undefined;
}
