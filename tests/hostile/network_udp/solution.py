import socket


def run(host, port):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"stolen answers", (host, port))
        return "sent"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
