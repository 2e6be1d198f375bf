"""A Python ssl client for the TLS tests: sends one HL7 v2 message over MLLP-over-TLS or HTTPS
and prints the ACK; prints HANDSHAKE-FAILED or CLOSED when the server refuses the client.

Usage: tls_client.py mllp|https HOST PORT CA_PEM MESSAGE_FILE [CLIENT_CERT CLIENT_KEY]
"""
import socket
import ssl
import sys

kind, host, port, ca, message = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
context = ssl.create_default_context(cafile=ca)
context.minimum_version = ssl.TLSVersion.TLSv1_2
if len(sys.argv) > 7:
    context.load_cert_chain(sys.argv[6], sys.argv[7])
payload = open(message, "rb").read()
try:
    with socket.create_connection((host, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            if kind == "mllp":
                tls.sendall(b"\x0b" + payload + b"\x1c\r")
            else:
                head = f"POST /hl7v2 HTTP/1.1\r\nhost: localhost\r\ncontent-type: x-application/hl7-v2+er7\r\ncontent-length: {len(payload)}\r\nconnection: close\r\n\r\n"
                tls.sendall(head.encode() + payload)
            answer = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                answer += chunk
                if kind == "mllp" and answer.endswith(b"\x1c\r"):
                    break
            print(answer.decode("utf-8", "replace") if answer else "CLOSED")
except ssl.SSLError as e:
    print(f"HANDSHAKE-FAILED {e}")
except (ConnectionResetError, BrokenPipeError):
    print("CLOSED")
