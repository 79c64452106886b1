"""The local AWS: moto's server, with DynamoDB made safe for concurrent clients.

moto's TransactWriteItems applies its writes one by one and, when a condition fails, puts back a
deep copy of every table involved, taken before it started. Two things follow: a write from
another client in between is lost or fails with a 500 ("dictionary changed size during
iteration"), and every transaction costs a copy of the whole table, so a table of 10,000 tasks
makes each write take seconds. Real DynamoDB has neither. Here, DynamoDB requests are serialized,
and a transaction checks every condition first and writes only if all hold, touching nothing
else. Everything else (SQS long polls above all) stays concurrent.

Three costs that grow with use are cut as well (a 2,000-event run had moto at 100% of a core,
most of it here): finding the backend for a request listed moto's package folder on disk and
tried some hundred URL patterns, under one lock, for every request (now remembered per host); an
SQS receive computed every attribute of the queue, each a pass over all its messages, for each
message it returned (now reads the retention period); and listing a queue's visible messages
asked the clock twice per message (now once per listing). Deleting a message made two passes
over the whole queue (now one, to the message), and sending one computed every attribute of the
queue to read one (now only that one): with 50,000 events queued, these were most of it.
Same options as moto_server: -H HOST -p PORT.
"""
import argparse
import functools
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping

import jsonpath_ng.ext
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.core.utils import camelcase_to_underscores, unix_time, unix_time_millis
from moto.dynamodb.models import DynamoDBBackend
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Queue, SQSBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

dynamodb = threading.Lock()


def transact_write_items(self, transact_items):
    """All conditions are checked, then all writes applied: nothing runs in between, since
    DynamoDB requests are serialized. A cancelled transaction writes nothing."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen, reasons, writes = set(), [], []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        kind, op = next(iter(entry.items()))
        table_name = op["TableName"]
        if kind == "Put":
            table = self.get_table(table_name)
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        marker = (table_name, str(sorted(key.items())))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = self.get_item(table_name, key)
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        condition = op.get("ConditionExpression")
        if condition is not None and not get_filter_expression(condition, names, values).expr(current):
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
        else:
            reasons.append((None, None, None))
        writes.append((kind, op, table_name, key, names, values))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    for kind, op, table_name, key, names, values in writes:
        if kind == "Put":
            self.put_item(table_name, op["Item"])
        elif kind == "Delete":
            self.delete_item(table_name, key)
        elif kind == "Update":
            self.update_item(table_name, key, op["UpdateExpression"], names, values)


DynamoDBBackend.transact_write_items = transact_write_items


def backend_for_host_remembered(find):
    known = {}

    def backend_for_host(self, host):
        if host not in known:
            known[host] = find(self, host)
        return known[host]

    return backend_for_host


DomainDispatcherApplication.get_backend_for_host = backend_for_host_remembered(
    DomainDispatcherApplication.get_backend_for_host
)


def is_message_valid_based_on_retention_period(self, queue_name, message):
    queue = self.get_queue(queue_name)
    return queue.message_retention_period + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def visible_messages(self):
    now = unix_time_millis()
    return [m for m in self._messages if m.visible_at < now and not now < m.delayed_until]


Queue.messages = property(visible_messages)


# The two counts a drain check asks for (GetQueueAttributes), each a pass over the queue that
# read the clock once per message: with 50,000 replayed events queued, half of moto's time.
def messages_not_visible(self):
    now = unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


def messages_delayed(self):
    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


Queue.approximate_number_of_messages_not_visible = property(messages_not_visible)
Queue.approximate_number_of_messages_delayed = property(messages_delayed)


def delete_message(self, receipt_handle):
    """One pass that stops at the message (received oldest first, it is near the front), where
    moto's made two full passes, each building a list of every message's receipt handles."""
    if receipt_handle in self.deleted_messages:
        return
    for i, message in enumerate(self._messages):
        if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
            del self._messages[i]
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            return
    raise ReceiptHandleIsInvalid()


Queue.delete_message = delete_message


class QueueAttributes(Mapping):
    """A queue's attributes, each computed when it is read. moto computed all of them (three
    are passes over every message) to read one, ContentBasedDeduplication, for every message
    sent: publishing 50,000 events took hours."""

    def __init__(self, queue):
        self._queue = queue
        self._names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            self._names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            self._names += queue.KMS_ATTRIBUTES
        if queue.policy:
            self._names.append("Policy")
        if queue.redrive_policy:
            self._names.append("RedrivePolicy")

    def __getitem__(self, name):
        if name not in self._names:
            raise KeyError(name)
        if name == "Policy":
            return self._queue.policy
        if name == "RedrivePolicy":
            return json.dumps(self._queue.redrive_policy)
        value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __contains__(self, name):
        # Mapping's own would compute the value; moto asks before every read.
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)


Queue.attributes = property(QueueAttributes)


# EventBridge read its default input paths with a JSONPath parser it built anew (lexer and
# grammar tables) for every target of every event; an expression, once parsed, is kept.
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


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
    # A log line per request, under a lock every request thread takes: a fifth of the time.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialize_dynamodb(app), threaded=True)


if __name__ == "__main__":
    main()
