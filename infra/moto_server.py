"""The local AWS: moto's server, with every DynamoDB request serialized.

moto's TransactWriteItems deep-copies the table for its rollback without a lock, so a write
arriving meanwhile fails it with a 500 ("dictionary changed size during iteration"). Real
DynamoDB has no such race; serializing DynamoDB requests removes it here. Everything else (SQS
long polls above all) stays concurrent. Same options as moto_server: -H HOST -p PORT.
"""
import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

dynamodb = threading.Lock()


def serialize_dynamodb(app):
    def serve(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with dynamodb:
                # moto builds the whole response inside the call; only bytes are left to send.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return serve


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialize_dynamodb(app), threaded=True)


if __name__ == "__main__":
    main()
