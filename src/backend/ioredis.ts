/**
 * ioredis, as the backend's modules use it: loaded here, and only here, so that what loading it
 * does to the process is undone in one place.
 *
 * ioredis defines `class VerbatimString extends String`. Becoming the prototype of another
 * class's prototype turns `String.prototype` into a dictionary-mode object in V8, and it stays so
 * until some object whose prototype chain holds it gets a property. While it is, V8 compiles every
 * method call on a string (`key.charCodeAt(i)`, `query.indexOf('&')`, `slice`) as a generic
 * property lookup instead of a direct call: in every module of the HTTP thread, whether or not
 * --backend is set, since ioredis is loaded at start. One store on such an object makes it a fast
 * object again. Measured: GET hits over HTTP 1.04x req/s (wrk, 10 rounds, paired median), the
 * lookups having been 2.8% of the HTTP thread's time. test/builtin-shapes.test.ts checks it.
 */
import { Cluster, Redis, ReplyError, type RedisOptions } from 'ioredis';

(Object.create(String.prototype) as { fast?: boolean }).fast = true;

export { Cluster, Redis, ReplyError, type RedisOptions };
