#!/usr/bin/env node
// s3rver with AWS Signature Version 4 verification, for the S3ImageStore tests.
//
// s3rver 3.7.1 accepts every well-formed SigV4 request whose access key id it knows: its own
// middleware says "Signature version 4 calculation is unimplemented" and it never checks the
// payload hash either. So a wrong secret, a bad canonical request or a corrupted upload would all
// pass. This wrapper runs the same server with one middleware in front that does what S3 does:
//   - header auth (Authorization: AWS4-HMAC-SHA256 ...) and query auth (presigned URLs) are
//     recomputed from the raw request with the account's secret; a mismatch is 403
//     SignatureDoesNotMatch, an unknown key 403 InvalidAccessKeyId, an expired URL 403
//     AccessDenied "Request has expired";
//   - header auth requires x-amz-content-sha256 and "host" among the signed headers;
//   - anonymous requests are refused (403 AccessDenied): buckets are private, as S3's are;
//   - a PUT whose x-amz-content-sha256 is a hex digest is hashed while s3rver stores it; on a
//     mismatch the object is deleted and the reply is 400 XAmzContentSHA256Mismatch.
// Usage: node s3rver_sigv4.js -d DIR [-a ADDRESS] [-p PORT] [--service-endpoint HOST]
//        [--configure-bucket NAME]... [--access-key ID:SECRET]... [--no-verify]
//        [--parent-pid PID]
// --no-verify runs s3rver as it is (no checks added). Prints "S3rver listening on ADDRESS:PORT"
// once it accepts connections (port 0 picks one). With --parent-pid it exits as soon as that
// process is no longer its parent (a test that crashed never leaves a server behind).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const S3rver = require(path.join(root, 'node_modules', 's3rver'));

function parseArgs(argv) {
  const opts = {
    directory: undefined,
    address: '127.0.0.1',
    port: 0,
    silent: true,
    serviceEndpoint: 'amazonaws.com',
    configureBuckets: [],
    keys: new Map([['S3RVER', 'S3RVER']]),
    verify: true,
    parentPid: 0,
  };
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '-d' || arg === '--directory') opts.directory = value();
    else if (arg === '-a' || arg === '--address') opts.address = value();
    else if (arg === '-p' || arg === '--port') opts.port = Number(value());
    else if (arg === '--service-endpoint') opts.serviceEndpoint = value();
    else if (arg === '--no-verify') opts.verify = false;
    else if (arg === '--parent-pid') opts.parentPid = Number(value());
    else if (arg === '--configure-bucket') opts.configureBuckets.push({ name: value(), configs: [] });
    else if (arg === '--access-key') {
      const [id, ...secret] = value().split(':');
      opts.keys.set(id, secret.join(':'));
    } else throw new Error(`unknown argument ${arg}`);
  }
  if (!opts.directory) throw new Error('-d DIR is required');
  fs.mkdirSync(opts.directory, { recursive: true });
  return opts;
}

// RFC 3986 unreserved characters stay, everything else is %XX (uppercase), as SigV4 wants.
function uriEncode(text, keepSlash) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function decode(text) {
  return decodeURIComponent(text.replace(/\+/g, '%20'));
}

const sha256Hex = data => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

function s3Error(ctx, status, code, message) {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

// The SigV4 signature of a request as S3 computes it. `query` holds the raw "k=v" pairs.
function signature({ method, rawPath, queryPairs, headers, signedHeaders, payloadHash,
                     amzDate, scope, secret }) {
  const canonicalUri = rawPath.split('/').map(s => uriEncode(decode(s), false)).join('/');
  const canonicalQuery = queryPairs
    .map(([k, v]) => [uriEncode(decode(k), false), uriEncode(decode(v), false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map(name => `${name}:${String(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [method, canonicalUri, canonicalQuery, canonicalHeaders,
                            signedHeaders.join(';'), payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const [date, region, service, terminator] = scope.split('/');
  let key = hmac('AWS4' + secret, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, terminator);
  return crypto.createHmac('sha256', key).update(stringToSign).digest('hex');
}

function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '');
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function verifier(keys) {
  return async function verifySigV4(ctx, next) {
    const rawUrl = ctx.req.url;
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const queryPairs = (q < 0 ? '' : rawUrl.slice(q + 1))
      .split('&')
      .filter(Boolean)
      .map(p => {
        const eq = p.indexOf('=');
        return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
      });
    const query = new Map(queryPairs.map(([k, v]) => [decode(k), decode(v)]));
    const auth = ctx.get('authorization');
    let credential, signedHeaders, provided, amzDate, payloadHash, pairs;
    if (auth.startsWith('AWS4-HMAC-SHA256 ')) {
      const fields = new Map(
        auth.slice('AWS4-HMAC-SHA256 '.length).split(',').map(f => {
          const [k, ...v] = f.trim().split('=');
          return [k, v.join('=')];
        }));
      credential = fields.get('Credential');
      signedHeaders = (fields.get('SignedHeaders') || '').split(';');
      provided = fields.get('Signature');
      amzDate = ctx.get('x-amz-date');
      payloadHash = ctx.get('x-amz-content-sha256');
      pairs = queryPairs;
      if (!payloadHash) {
        return s3Error(ctx, 400, 'InvalidRequest',
                       'Missing required header for this request: x-amz-content-sha256');
      }
      if (!signedHeaders.includes('x-amz-content-sha256')) {
        return s3Error(ctx, 403, 'AccessDenied', 'x-amz-content-sha256 must be signed');
      }
    } else if (query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256') {
      credential = query.get('X-Amz-Credential');
      signedHeaders = (query.get('X-Amz-SignedHeaders') || '').split(';');
      provided = query.get('X-Amz-Signature');
      amzDate = query.get('X-Amz-Date');
      payloadHash = 'UNSIGNED-PAYLOAD';
      pairs = queryPairs.filter(([k]) => decode(k) !== 'X-Amz-Signature');
      const expires = Number(query.get('X-Amz-Expires'));
      const start = parseAmzDate(amzDate);
      if (!Number.isInteger(expires) || expires < 1 || expires > 604800 || isNaN(start)) {
        return s3Error(ctx, 400, 'AuthorizationQueryParametersError',
                       'X-Amz-Date or X-Amz-Expires is invalid');
      }
      if (Date.now() > start + expires * 1000) {
        return s3Error(ctx, 403, 'AccessDenied', 'Request has expired');
      }
    } else if (auth || query.has('X-Amz-Algorithm') || query.has('Signature')) {
      return s3Error(ctx, 400, 'InvalidArgument', 'only AWS4-HMAC-SHA256 is accepted here');
    } else {
      // Anonymous: buckets are private, as S3's are by default.
      return s3Error(ctx, 403, 'AccessDenied', 'Access Denied');
    }
    const [accessKey, ...scopeParts] = (credential || '').split('/');
    const secret = keys.get(accessKey);
    if (secret === undefined) {
      return s3Error(ctx, 403, 'InvalidAccessKeyId',
                     'The AWS Access Key Id you provided does not exist in our records.');
    }
    if (!signedHeaders.includes('host') || scopeParts.length !== 4 ||
        scopeParts[0] !== (amzDate || '').slice(0, 8)) {
      return s3Error(ctx, 403, 'AccessDenied', 'host must be signed and the scope must match');
    }
    const expected = signature({
      method: ctx.method, rawPath, queryPairs: pairs, headers: ctx.headers, signedHeaders,
      payloadHash, amzDate, scope: scopeParts.join('/'), secret,
    });
    if (expected !== provided) {
      return s3Error(ctx, 403, 'SignatureDoesNotMatch',
                     'The request signature we calculated does not match the signature you ' +
                     'provided. Check your key and signing method.');
    }
    if (ctx.method !== 'PUT' || !/^[0-9a-f]{64}$/i.test(payloadHash)) return next();
    // Hash the body as s3rver reads it: pausing right after attaching keeps every chunk for the
    // pipe s3rver sets up later (which resumes the stream).
    const hash = crypto.createHash('sha256');
    ctx.req.on('data', chunk => hash.update(chunk));
    ctx.req.pause();
    await next();
    const actual = hash.digest('hex');
    if (ctx.status === 200 && actual !== payloadHash.toLowerCase()) {
      if (ctx.params && ctx.params.bucket && ctx.params.key) {
        await ctx.app.store.deleteObject(ctx.params.bucket, ctx.params.key);
      }
      ctx.remove('ETag');
      return s3Error(ctx, 400, 'XAmzContentSHA256Mismatch',
                     "The provided 'x-amz-content-sha256' header does not match what was " +
                     'computed.');
    }
  };
}

async function main() {
  const opts = parseArgs(process.argv);
  const server = new S3rver({
    directory: opts.directory,
    address: opts.address,
    port: opts.port,
    silent: opts.silent,
    serviceEndpoint: opts.serviceEndpoint,
    configureBuckets: opts.configureBuckets,
  });
  // Koa composes its middleware when it starts listening: first in the list runs first.
  if (opts.verify) server.middleware.unshift(verifier(opts.keys));
  // process.ppid is read once at start-up in Node 20; /proc tells the current parent.
  const currentParent = () => {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  };
  if (opts.parentPid > 0) {
    const orphaned = () => currentParent() !== opts.parentPid;  // the test process died
    if (orphaned()) process.exit(0);
    setInterval(() => {
      if (orphaned()) process.exit(0);
    }, 500).unref();
  }
  const { address, port } = await server.run();
  console.log('S3rver listening on %s:%d', address, port);
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
