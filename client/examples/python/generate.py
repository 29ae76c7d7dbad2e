#!/usr/bin/python3
"""Generates or edits images through qwen-image-gateway with the generated Python stubs.

CreateTask (with a fresh request_id, so that a retried create never makes a second task), then
WatchTask until the task ends, then ReadImage for every image, saved as <task_id>-<index>.png.
With --image (repeatable, in order) the task edits those inputs: a local file is uploaded, an
https URL is fetched by DashScope, qwenimage://tasks/ID/images/N is a result the gateway stored.

Runs with Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf). Generate the stubs first
with gen_stubs.sh; see README.md. Exit codes follow the qwen-image CLI: 0 success, 1 other error,
2 invalid argument, 3 task FAILED or CANCELLED, 4 server unavailable or deadline exceeded,
5 not found.
"""

import argparse
import hashlib
import os
import sys
import uuid

import grpc

# The stubs of gen_stubs.sh: PYTHONPATH wins, else gen/ next to this script.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))
try:
    from qwenimage.v1 import image_service_pb2 as pb
    from qwenimage.v1 import image_service_pb2_grpc as pb_grpc
    from qwenimage.v1 import task_pb2
except ImportError as e:
    sys.exit(f"generate.py: no qwenimage.v1 stubs ({e}); run gen_stubs.sh first")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_TASK_FAILED, EXIT_UNAVAILABLE, EXIT_NOT_FOUND = range(6)
TERMINAL = (
    task_pb2.TASK_STATE_SUCCEEDED,
    task_pb2.TASK_STATE_FAILED,
    task_pb2.TASK_STATE_CANCELLED,
)
MAX_RECONNECTS = 5


def exit_code_for(code: grpc.StatusCode) -> int:
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
        return EXIT_USAGE
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return EXIT_UNAVAILABLE
    if code == grpc.StatusCode.NOT_FOUND:
        return EXIT_NOT_FOUND
    return EXIT_ERROR


def state_name(state: int) -> str:
    return task_pb2.TaskState.Name(state).removeprefix("TASK_STATE_")


def task_line(task) -> str:
    line = f"{task.id}  {state_name(task.state)}"
    if task.queue_position > 0:
        line += f"  queue #{task.queue_position}"
    return f"{line}  {task.spec.model}"


def watch(stub, task, metadata):
    """Follows `task` to a terminal state, printing a line per state or queue change.

    A draining server sends a Reconnect event and ends the stream OK: watch again (wait_for_ready
    holds the call until a server accepts it).
    """
    last = task
    for _ in range(MAX_RECONNECTS + 1):
        stream = stub.WatchTask(
            pb.WatchTaskRequest(task_id=task.id), metadata=metadata, wait_for_ready=True
        )
        for event in stream:
            kind = event.WhichOneof("event")
            if kind == "reconnect":
                print(f"server asked to reconnect: {event.reconnect.reason}", file=sys.stderr)
            if kind != "task":
                continue  # heartbeats only keep the stream alive
            if (event.task.state, event.task.queue_position) != (last.state, last.queue_position):
                print(task_line(event.task), flush=True)
            last = event.task
        if last.state in TERMINAL:
            return last
    raise RuntimeError(f"the stream of task {task.id} kept ending before the task finished")


def save_image(stub, task_id, index, out_dir, metadata, timeout):
    """Reads one image (metadata on the first message, every message a chunk of <= 64 KiB)."""
    image = None
    data = bytearray()
    for chunk in stub.ReadImage(
        pb.ReadImageRequest(task_id=task_id, index=index), metadata=metadata, timeout=timeout
    ):
        if chunk.HasField("metadata"):
            image = chunk.metadata
        data += chunk.data
    digest = hashlib.sha256(data).hexdigest()
    if image is None or digest != image.sha256.lower():
        raise RuntimeError(f"image {index} of task {task_id}: sha256 mismatch or no metadata")
    path = os.path.join(out_dir, f"{task_id}-{index}.png")
    with open(path + ".part", "wb") as f:  # never leave a partial PNG under the final name
        f.write(data)
    os.replace(path + ".part", path)
    print(f"{path}  {len(data)} bytes  {image.width}x{image.height}  sha256 {digest}")


def input_image(value):
    """An --image value as a task_pb2.InputImage (a file is read here and sent as bytes)."""
    if value.startswith("qwenimage://"):
        return task_pb2.InputImage(task_image=value)
    if value.lower().startswith(("https://", "http://")):  # the gateway accepts https only
        return task_pb2.InputImage(url=value)
    try:
        with open(value, "rb") as f:
            return task_pb2.InputImage(data=f.read())  # the gateway sniffs the format
    except OSError as e:
        raise ValueError(f"--image {value}: cannot read: {e.strerror}") from None


def read_token(args):
    """The bearer token of --token or --token-file, or None. Errors never include the token."""
    if args.token_file:
        try:
            with open(args.token_file, encoding="ascii") as f:
                token = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"--token-file {args.token_file}: cannot read: "
                             f"{getattr(e, 'strerror', None) or 'not ASCII'}") from None
        token = token.removesuffix("\n").removesuffix("\r")
        source = f"--token-file {args.token_file}"
    elif args.token is not None:
        token, source = args.token, "--token"
    else:
        return None
    if not token or not all(0x21 <= ord(c) <= 0x7E for c in token):
        raise ValueError(f"{source}: the token is empty or has characters other than printable "
                         "ASCII")
    return token


def open_channel(args):
    """A TLS channel verifying the gateway against --tls-ca, else a plaintext one."""
    if not args.tls_ca:
        return grpc.insecure_channel(args.server)
    try:
        with open(args.tls_ca, "rb") as f:
            roots = f.read()
    except OSError as e:
        raise ValueError(f"--tls-ca {args.tls_ca}: cannot read: {e.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in roots:
        raise ValueError(f"--tls-ca {args.tls_ca}: no PEM certificate in it")
    return grpc.secure_channel(args.server, grpc.ssl_channel_credentials(root_certificates=roots))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", default="localhost:50051", help="gateway address (HOST:PORT)")
    p.add_argument("--tenant", help="tenant, sent as metadata x-qwenimage-tenant (heeded only by "
                   "a gateway with --auth=none; else the token names the tenant)")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--token", help="bearer token, sent as metadata authorization: Bearer "
                       "TOKEN (visible to other local users in ps: prefer --token-file)")
    token.add_argument("--token-file", "--token_file", dest="token_file",
                       help="read the bearer token from this file (trailing newline dropped)")
    p.add_argument("--tls-ca", "--tls_ca", dest="tls_ca",
                   help="PEM CA certificates to verify the gateway with: the channel is TLS "
                   "(without it, plaintext)")
    p.add_argument("--model", default="qwen-image-plus", help="model name (see ListModels)")
    p.add_argument("--prompt", required=True, help="what to generate (or change: name the "
                   "inputs image 1, 2, 3)")
    p.add_argument("--image", action="append", default=[],
                   help="an input image to edit, repeatable and in order: a file, an https URL "
                   "or qwenimage://tasks/ID/images/N (use an edit-capable --model)")
    p.add_argument("--negative-prompt", default="", help="what to avoid")
    p.add_argument("--size", default="", help="WIDTH*HEIGHT, e.g. 1328*1328 (default: model's)")
    p.add_argument("--n", type=int, default=0, help="number of images (default: model's, 1)")
    p.add_argument("--seed", type=int, help="random seed in [0, 2147483647]")
    p.add_argument("--prompt-extend", action=argparse.BooleanOptionalAction,
                   help="let an LLM rewrite the prompt (server default: on)")
    p.add_argument("--watermark", action=argparse.BooleanOptionalAction,
                   help="add a watermark (server default: off)")
    p.add_argument("--request-id", help="idempotency key (default: a new UUID)")
    p.add_argument("--out", default=".", help="directory for <task_id>-<index>.png")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="deadline of CreateTask and each ReadImage, in seconds")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    spec = task_pb2.GenerationSpec(
        model=args.model,
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        size=args.size,
        n=args.n,
    )
    # Optional fields: leave them unset (server default) unless given.
    if args.seed is not None:
        spec.seed = args.seed
    if args.prompt_extend is not None:
        spec.prompt_extend = args.prompt_extend
    if args.watermark is not None:
        spec.watermark = args.watermark
    metadata = [("x-qwenimage-tenant", args.tenant)] if args.tenant else []
    try:
        spec.input_images.extend(input_image(value) for value in args.image)
        token = read_token(args)
        channel = open_channel(args)
    except ValueError as e:
        print(f"generate.py: {e}", file=sys.stderr)
        return EXIT_USAGE
    if token is not None:
        metadata.append(("authorization", f"Bearer {token}"))
    request = pb.CreateTaskRequest(request_id=args.request_id or str(uuid.uuid4()), spec=spec)

    with channel:
        stub = pb_grpc.ImageServiceStub(channel)
        try:
            task = stub.CreateTask(request, metadata=metadata, timeout=args.timeout)
            print(task_line(task), flush=True)
            # The task records each uploaded or stored input by sha256, never its bytes.
            for i, recorded in enumerate(task.spec.input_images, start=1):
                print(f"input {i}: {recorded.url or 'sha256 ' + recorded.sha256}")
            task = watch(stub, task, metadata)
            if task.state != task_pb2.TASK_STATE_SUCCEEDED:
                error = f": {task.error.code}: {task.error.message}" if task.error.code else ""
                print(f"task {task.id} {state_name(task.state)}{error}", file=sys.stderr)
                return EXIT_TASK_FAILED
            for e in task.image_errors:
                print(f"image {e.index} failed: {e.code}: {e.message}", file=sys.stderr)
            os.makedirs(args.out, exist_ok=True)
            for image in task.images:
                save_image(stub, task.id, image.index, args.out, metadata, args.timeout)
        except grpc.RpcError as e:
            print(f"generate.py: {e.code().name}: {e.details()}", file=sys.stderr)
            return exit_code_for(e.code())
        except (RuntimeError, OSError) as e:
            print(f"generate.py: {e}", file=sys.stderr)
            return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
