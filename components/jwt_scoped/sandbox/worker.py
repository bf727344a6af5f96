"""One warm Lambda execution environment: ``python -I -S -B worker.py FD TASK_ROOT HANDLER``.

Run by ``sandbox/lambdas.py`` in its own process, with only the function's unpacked archive
(``TASK_ROOT``) on ``sys.path`` (``-I -S``: no site-packages, no user or environment paths;
``-B``: no bytecode written, as ``/var/task`` is read-only), the function's environment, and its
working directory set to the archive, as Lambda runs ``/var/task``. Stdlib only; the sandbox
imports its framing (``send``, ``receive``) from here. It imports the handler once (the cold
start), then answers one invocation at a time over the socket ``FD``: each frame is a 4-byte
big-endian length and a JSON object.

  parent -> worker  {"event": ..., "requestId": ..., "deadlineMs": ..., "functionArn": ...}
  worker -> parent  {"ready": true} once, then per invocation {"result": ...} or
                    {"error": {"errorMessage", "errorType", "stackTrace"}}

Error types and messages are those of the Lambda Python runtime (``Runtime.ImportModuleError``
"Unable to import module 'handler': ...", ``Runtime.HandlerNotFound``, ``Runtime.MarshalError``).
The handler's own output (stdout and stderr) goes to the function's log file.
"""

import importlib
import json
import os
import socket
import struct
import sys
import time
import traceback

_LENGTH = struct.Struct(">I")


FRAME_HEADER_BYTES = _LENGTH.size


def frame_header(data):
    """The 4 bytes before a frame's ``data``: its length, big-endian."""
    return _LENGTH.pack(len(data))


def frame_length(header):
    return _LENGTH.unpack(header)[0]


def send_frame(sock, data):
    """One frame: a 4-byte big-endian length, then ``data`` (JSON bytes)."""
    sock.sendall(frame_header(data) + data)


def receive_frame(sock):
    """The next frame's bytes; None when the other side closed the socket."""
    header = _exactly(sock, FRAME_HEADER_BYTES)
    if header is None:
        return None
    return _exactly(sock, frame_length(header))


def send(sock, message):
    """One frame holding ``message`` as JSON."""
    send_frame(sock, json.dumps(message).encode())


def receive(sock):
    """The next frame's message; None when the other side closed the socket."""
    body = receive_frame(sock)
    return None if body is None else json.loads(body)


def _exactly(sock, size):
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class LambdaContext:
    """The context object the Lambda Python runtime passes to handlers."""

    def __init__(self, request_id, deadline_ms, function_arn):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(error_type, message, stack=None):
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}


def load(handler_name):
    """(handler function, None) or (None, the runtime's init error)."""
    module_name, dot, function_name = handler_name.rpartition(".")
    if not dot or not module_name or not function_name:
        return None, _error("Runtime.MalformedHandlerName",
                            f"Bad handler '{handler_name}': not enough values to unpack "
                            "(expected 2, got 1)")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as error:
        return None, _error("Runtime.UserCodeSyntaxError",
                            f"Syntax error in module '{module_name}': {error}")
    except Exception as error:  # noqa: BLE001 -- reported as Lambda reports it
        return None, _error("Runtime.ImportModuleError",
                            f"Unable to import module '{module_name}': {error}")
    function = getattr(module, function_name, None)
    if not callable(function):
        return None, _error("Runtime.HandlerNotFound",
                            f"Handler '{function_name}' missing on module '{module_name}'")
    return function, None


def invoke(function, request):
    context = LambdaContext(request["requestId"], request["deadlineMs"], request["functionArn"])
    try:
        result = function(request["event"], context)
    except Exception as error:  # noqa: BLE001 -- an unhandled error is the invocation's result
        stack = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])
        return {"error": _error(type(error).__name__, str(error), stack)}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as error:
        return {"error": _error("Runtime.MarshalError", f"Unable to marshal response: {error}")}
    return {"result": result}


def log_error(error, request_id):
    """What the Lambda Python runtime writes for a failed invocation in the JSON log format: one
    line with the error object, the request id, and the stack trace ("Log and monitor Python
    Lambda functions": errors are logged with errorType, errorMessage, stackTrace)."""
    record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
              "level": "ERROR", "message": error["errorMessage"], "errorType": error["errorType"],
              "errorMessage": error["errorMessage"], "stackTrace": error.get("stackTrace") or [],
              "requestId": request_id}
    print(json.dumps(record), file=sys.stderr)


def main(argv):
    fd, task_root, handler_name = int(argv[1]), argv[2], argv[3]
    sock = socket.socket(fileno=fd)
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    function, init_error = load(handler_name)
    send(sock, {"ready": True})
    while True:
        request = receive(sock)
        if request is None:  # the sandbox closed the socket: stop
            return 0
        print(f"START RequestId: {request['requestId']} Version: $LATEST", file=sys.stderr)
        answer = {"error": init_error} if init_error else invoke(function, request)
        if "error" in answer:
            log_error(answer["error"], request["requestId"])
        sys.stdout.flush()
        print(f"END RequestId: {request['requestId']}", file=sys.stderr)
        sys.stderr.flush()
        send(sock, answer)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
