import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** `Bearer <token>`; the scheme's name is case-insensitive (RFC 9110 11.1), spaces around the token are not part of it. */
const BEARER = /^bearer[ \t]+([^ \t].*?)[ \t]*$/i;

/**
 * Whether a request carries `Authorization: Bearer <token>`. Both tokens are hashed first, so the
 * comparison takes the same time whatever the header's length and content. No token: all pass.
 */
export function bearerCheck(token: string): (req: IncomingMessage) => boolean {
  if (token === '') return () => true;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  const expected = digest(token);
  return (req) => {
    const given = BEARER.exec(req.headers.authorization ?? '')?.[1];
    // A missing token is hashed too, so that its answer takes as long as a wrong one's.
    return timingSafeEqual(digest(given ?? ''), expected) && given !== undefined;
  };
}
