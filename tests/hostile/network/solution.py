import socket
import time


def run(host, port):
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"stolen answers")
        outcome = "connected"
    except OSError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    return {"outcome": outcome, "seconds": time.monotonic() - started}
