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

    # What every invocation of this process shares: read from the environment once, as the
    # runtime reads it at init (a handler that edits os.environ does not change its context).
    _shared = None

    def __init__(self, request_id, deadline_ms, function_arn):
        shared = LambdaContext._shared
        if shared is None:
            environ = os.environ
            shared = LambdaContext._shared = {
                "function_name": environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
                "function_version": environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                "memory_limit_in_mb": environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
                "log_group_name": environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
                "log_stream_name": environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
                "identity": None, "client_context": None}
        self.__dict__.update(shared)
        self.invoked_function_arn = function_arn
        self.aws_request_id = request_id
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
    """The answer frame's bytes, and the error when the invocation failed (``None`` if not)."""
    context = LambdaContext(request["requestId"], request["deadlineMs"], request["functionArn"])
    try:
        result = function(request["event"], context)
    except Exception as error:  # noqa: BLE001 -- an unhandled error is the invocation's result
        stack = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])
        failure = _error(type(error).__name__, str(error), stack)
        return json.dumps({"error": failure}).encode(), failure
    try:
        return json.dumps({"result": result}).encode(), None
    except (TypeError, ValueError) as error:
        failure = _error("Runtime.MarshalError", f"Unable to marshal response: {error}")
        return json.dumps({"error": failure}).encode(), failure


def log_error(error, request_id):
    """What the Lambda Python runtime writes for a failed invocation, or a failed init
    (``request_id`` empty): one JSON line with the error object and the request id (the JSON
    log format: "Log and monitor Python Lambda functions", errors are logged with errorType,
    errorMessage, stackTrace), then the error as its text format shows it, ``[ERROR] <type>:
    <message>`` and the traceback (the runtime's ``log_error`` in awslambdaric's bootstrap)."""
    stack = error.get("stackTrace") or []
    record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
              "level": "ERROR", "message": error["errorMessage"], "errorType": error["errorType"],
              "errorMessage": error["errorMessage"], "stackTrace": stack,
              "requestId": request_id}
    lines = [json.dumps(record), f"[ERROR] {error['errorType']}: {error['errorMessage']}",
             "Traceback (most recent call last):"]
    lines += [line for frame in stack for line in frame.splitlines()]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def _next_frame(sock, pending):
    """The next frame's bytes (``pending``: what was read past the last one); None when the
    sandbox closed the socket. One read for a whole small frame, where ``receive_frame``
    makes two."""
    while len(pending) < FRAME_HEADER_BYTES or \
            len(pending) < FRAME_HEADER_BYTES + frame_length(pending[:FRAME_HEADER_BYTES]):
        chunk = sock.recv(65536)
        if not chunk:
            return None
        pending += chunk
    end = FRAME_HEADER_BYTES + frame_length(pending[:FRAME_HEADER_BYTES])
    frame = bytes(pending[FRAME_HEADER_BYTES:end])
    del pending[:end]
    return frame


def _log_line(text):
    """A line of the runtime's own (``START``/``END``) in the log, after what the handler
    wrote."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.write(2, text.encode())
    except OSError:  # the handler closed it: nowhere to log
        pass


def main(argv):
    fd, task_root, handler_name = int(argv[1]), argv[2], argv[3]
    sock = socket.socket(fileno=fd)
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    function, init_error = load(handler_name)
    if init_error:  # logged at init, and again at each invocation it fails
        log_error(init_error, "")
        init_answer = json.dumps({"error": init_error}).encode()
    send(sock, {"ready": True})
    pending = bytearray()
    while True:
        frame = _next_frame(sock, pending)
        if frame is None:  # the sandbox closed the socket: stop
            return 0
        request = json.loads(frame.decode())
        request_id = request["requestId"]
        _log_line(f"START RequestId: {request_id} Version: $LATEST\n")
        if init_error:
            answer, failure = init_answer, init_error
        else:
            answer, failure = invoke(function, request)
        if failure:
            log_error(failure, request_id)
        _log_line(f"END RequestId: {request_id}\n")
        send_frame(sock, answer)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
