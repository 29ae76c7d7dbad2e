#!/usr/bin/env node
// Generates or edits images through qwen-image-gateway from Node.js, with the .proto files of the
// repo's proto/ loaded at run time by @grpc/proto-loader (no generated code).
//
// CreateTask (with a fresh request_id, so that a retried create never makes a second task), then
// WatchTask until the task ends, then ReadImage for every image, saved as <task_id>-<index>.png.
// With --image (repeatable, in order) the task edits those inputs: a local file is uploaded, an
// https URL is fetched by DashScope, qwenimage://tasks/ID/images/N is a result the gateway stored.
// Exit codes follow the qwen-image CLI: 0 success, 1 other error, 2 invalid argument, 3 task
// FAILED or CANCELLED, 4 server unavailable or deadline exceeded, 5 not found.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const EXIT = { OK: 0, ERROR: 1, USAGE: 2, TASK_FAILED: 3, UNAVAILABLE: 4, NOT_FOUND: 5 };
const TERMINAL = new Set(['TASK_STATE_SUCCEEDED', 'TASK_STATE_FAILED', 'TASK_STATE_CANCELLED']);
const MAX_RECONNECTS = 5;
const USAGE = `Usage: node generate.js --prompt=TEXT [flags]

  --server=HOST:PORT        gateway address (default localhost:50051)
  --tenant=NAME             tenant, sent as metadata x-qwenimage-tenant (heeded only by a
                            gateway with --auth=none; else the token names the tenant)
  --token=TOKEN             bearer token, sent as metadata authorization: Bearer TOKEN
                            (visible to other local users in ps: prefer --token-file)
  --token-file=PATH         read the bearer token from PATH (trailing newline dropped)
  --tls-ca=PATH             PEM CA certificates to verify the gateway with: the channel is TLS
                            (without it, plaintext); --token_file and --tls_ca work too
  --model=NAME              model (default qwen-image-plus; see ListModels)
  --prompt=TEXT             what to generate, or change: name the inputs image 1, 2, 3 (required)
  --image=FILE|URL|URI      an input image to edit, repeatable and in order: a file (uploaded),
                            an https URL or qwenimage://tasks/ID/images/N (an edit-capable model)
  --negative-prompt=TEXT    what to avoid
  --size=W*H                e.g. 1328*1328 (default: the model's)
  --n=N                     number of images (default: the model's, 1)
  --seed=N                  random seed in [0, 2147483647]
  --[no-]prompt-extend      let an LLM rewrite the prompt (server default: on)
  --[no-]watermark          add a watermark (server default: off)
  --request-id=ID           idempotency key (default: a new UUID)
  --out=DIR                 directory for <task_id>-<index>.png (default .)
  --timeout=SECONDS         deadline of CreateTask and each ReadImage (default 30)
  --proto-dir=DIR           where qwenimage/v1/*.proto live (default: the repo's proto/)`;

function loadService(protoDir) {
  const definition = protoLoader.loadSync('qwenimage/v1/image_service.proto', {
    includeDirs: [protoDir],
    keepCase: true, // field names as in the .proto: task_id, queue_position
    longs: String, // int64 (seed, size_bytes) without precision loss
    enums: String, // 'TASK_STATE_SUCCEEDED' rather than 4
    defaults: true,
    oneofs: true, // TaskEvent.event names the member that is set
  });
  return grpc.loadPackageDefinition(definition).qwenimage.v1.ImageService;
}

function exitCodeFor(code) {
  switch (code) {
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.OUT_OF_RANGE:
      return EXIT.USAGE;
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return EXIT.UNAVAILABLE;
    case grpc.status.NOT_FOUND:
      return EXIT.NOT_FOUND;
    default:
      return EXIT.ERROR;
  }
}

const stateName = (state) => state.replace(/^TASK_STATE_/, '');

function taskLine(task) {
  const queue = task.queue_position > 0 ? `  queue #${task.queue_position}` : '';
  return `${task.id}  ${stateName(task.state)}${queue}  ${task.spec.model}`;
}

// `caller` is {tenant, token}: who the calls are made as.
function metadataFor(caller, options = {}) {
  const metadata = new grpc.Metadata(options);
  if (caller.token) metadata.set('authorization', `Bearer ${caller.token}`);
  if (caller.tenant) metadata.set('x-qwenimage-tenant', caller.tenant);
  return metadata;
}

// The bearer token of --token or --token-file, or undefined. Errors never include the token.
function readToken(flags) {
  const file = flags['token-file'] ?? flags.token_file;
  if (file !== undefined && flags.token !== undefined) {
    throw new Error('give --token or --token-file, not both');
  }
  let token = flags.token;
  let source = '--token';
  if (file !== undefined) {
    source = `--token-file ${file}`;
    try {
      token = fs.readFileSync(file, 'latin1').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`${source}: cannot read: ${err.code || 'error'}`);
    }
  }
  if (token === undefined) return undefined;
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new Error(`${source}: the token is empty or has characters other than printable ASCII`);
  }
  return token;
}

// TLS verifying the gateway against --tls-ca, else plaintext.
function channelCredentials(flags) {
  const caFile = flags['tls-ca'] ?? flags.tls_ca;
  if (caFile === undefined) return grpc.credentials.createInsecure();
  let roots;
  try {
    roots = fs.readFileSync(caFile);
  } catch (err) {
    throw new Error(`--tls-ca ${caFile}: cannot read: ${err.code || 'error'}`);
  }
  if (!roots.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`--tls-ca ${caFile}: no PEM certificate in it`);
  }
  return grpc.credentials.createSsl(roots);
}

const deadlineAfter = (seconds) => new Date(Date.now() + seconds * 1000);

function createTask(client, request, caller, timeout) {
  return new Promise((resolve, reject) => {
    client.CreateTask(request, metadataFor(caller), { deadline: deadlineAfter(timeout) },
      (err, task) => (err ? reject(err) : resolve(task)));
  });
}

// Follows `task` to a terminal state, printing a line per state or queue change. A draining
// server sends a Reconnect event and ends the stream OK: watch again (waitForReady holds the call
// until a server accepts it).
async function watch(client, task, caller) {
  let last = task;
  for (let attempt = 0; attempt <= MAX_RECONNECTS; attempt++) {
    const metadata = metadataFor(caller, { waitForReady: true });
    const stream = client.WatchTask({ task_id: task.id }, metadata);
    for await (const event of stream) {
      if (event.event === 'reconnect') {
        console.error(`server asked to reconnect: ${event.reconnect.reason}`);
      }
      if (event.event !== 'task') continue; // heartbeats only keep the stream alive
      if (event.task.state !== last.state || event.task.queue_position !== last.queue_position) {
        console.log(taskLine(event.task));
      }
      last = event.task;
    }
    if (TERMINAL.has(last.state)) return last;
  }
  throw new Error(`the stream of task ${task.id} kept ending before the task finished`);
}

// Reads one image (metadata on the first message, every message a chunk of at most 64 KiB) and
// writes it.
async function saveImage(client, taskId, index, outDir, caller, timeout) {
  let image = null;
  const chunks = [];
  const stream = client.ReadImage({ task_id: taskId, index }, metadataFor(caller),
    { deadline: deadlineAfter(timeout) });
  for await (const chunk of stream) {
    if (chunk.metadata) image = chunk.metadata;
    chunks.push(chunk.data);
  }
  const data = Buffer.concat(chunks);
  const digest = crypto.createHash('sha256').update(data).digest('hex');
  if (!image || digest !== image.sha256.toLowerCase()) {
    throw new Error(`image ${index} of task ${taskId}: sha256 mismatch or no metadata`);
  }
  const file = path.join(outDir, `${taskId}-${index}.png`);
  fs.writeFileSync(`${file}.part`, data); // never leave a partial PNG under the final name
  fs.renameSync(`${file}.part`, file);
  console.log(`${file}  ${data.length} bytes  ${image.width}x${image.height}  sha256 ${digest}`);
}

function parseFlags(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      server: { type: 'string', default: 'localhost:50051' },
      tenant: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      token_file: { type: 'string' },
      'tls-ca': { type: 'string' },
      tls_ca: { type: 'string' },
      model: { type: 'string', default: 'qwen-image-plus' },
      prompt: { type: 'string' },
      image: { type: 'string', multiple: true, default: [] },
      'negative-prompt': { type: 'string', default: '' },
      size: { type: 'string', default: '' },
      n: { type: 'string', default: '0' },
      seed: { type: 'string' },
      'prompt-extend': { type: 'boolean' },
      'no-prompt-extend': { type: 'boolean' },
      watermark: { type: 'boolean' },
      'no-watermark': { type: 'boolean' },
      'request-id': { type: 'string' },
      out: { type: 'string', default: '.' },
      timeout: { type: 'string', default: '30' },
      'proto-dir': { type: 'string', default: path.join(__dirname, '..', '..', '..', 'proto') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return values;
}

function integer(name, text) {
  if (!/^-?\d+$/.test(text)) throw new Error(`--${name} must be an integer, got '${text}'`);
  return text;
}

// An --image value as an InputImage (a file is read here and sent as bytes).
function inputImage(value) {
  if (value.startsWith('qwenimage://')) return { task_image: value };
  if (/^https?:\/\//i.test(value)) return { url: value }; // the gateway accepts https only
  try {
    return { data: fs.readFileSync(value) }; // the gateway sniffs the format
  } catch (err) {
    throw new Error(`--image ${value}: cannot read: ${err.code || err.message}`);
  }
}

function buildRequest(flags) {
  const spec = {
    model: flags.model,
    prompt: flags.prompt,
    negative_prompt: flags['negative-prompt'],
    size: flags.size,
    n: Number(integer('n', flags.n)),
    input_images: flags.image.map(inputImage),
  };
  // Optional fields: leave them unset (server default) unless given.
  if (flags.seed !== undefined) spec.seed = integer('seed', flags.seed);
  if (flags['prompt-extend'] || flags['no-prompt-extend']) {
    spec.prompt_extend = Boolean(flags['prompt-extend']);
  }
  if (flags.watermark || flags['no-watermark']) spec.watermark = Boolean(flags.watermark);
  return { request_id: flags['request-id'] || crypto.randomUUID(), spec };
}

async function main(argv) {
  let flags;
  let request;
  let caller;
  let credentials;
  try {
    flags = parseFlags(argv);
    if (flags.help) {
      console.log(USAGE);
      return EXIT.OK;
    }
    if (!flags.prompt) throw new Error('--prompt is required');
    request = buildRequest(flags);
    caller = { tenant: flags.tenant, token: readToken(flags) };
    credentials = channelCredentials(flags);
  } catch (err) {
    console.error(`generate.js: ${err.message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const timeout = Number(flags.timeout);
  const ImageService = loadService(flags['proto-dir']);
  const client = new ImageService(flags.server, credentials);
  try {
    let task = await createTask(client, request, caller, timeout);
    console.log(taskLine(task));
    // The task records each uploaded or stored input by sha256, never its bytes.
    task.spec.input_images.forEach((recorded, i) => {
      console.log(`input ${i + 1}: ${recorded.url || `sha256 ${recorded.sha256}`}`);
    });
    task = await watch(client, task, caller);
    if (task.state !== 'TASK_STATE_SUCCEEDED') {
      const error = task.error?.code ? `: ${task.error.code}: ${task.error.message}` : '';
      console.error(`task ${task.id} ${stateName(task.state)}${error}`);
      return EXIT.TASK_FAILED;
    }
    for (const e of task.image_errors) {
      console.error(`image ${e.index} failed: ${e.code}: ${e.message}`);
    }
    fs.mkdirSync(flags.out, { recursive: true });
    for (const image of task.images) {
      await saveImage(client, task.id, image.index, flags.out, caller, timeout);
    }
    return EXIT.OK;
  } catch (err) {
    if (typeof err.code === 'number') { // a gRPC status
      const name = Object.keys(grpc.status).find((k) => grpc.status[k] === err.code);
      console.error(`generate.js: ${name}: ${err.details}`);
      return exitCodeFor(err.code);
    }
    console.error(`generate.js: ${err.message}`);
    return EXIT.ERROR;
  } finally {
    client.close();
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
