"""A second polynb replica in a process of its own (so a test can kill it): serves task ``work`` until killed.

Usage: python aio_replica.py NATS_URL WORKFLOW FOLDER HANDLER_SOURCE_FILE; prints READY once it consumes.
"""
import sys
import threading
from pathlib import Path

from aio_harness import aio_service, register

url, workflow, folder, source = sys.argv[1:5]
service = aio_service(Path(folder), url, POLYNB_AIO_ACK_WAIT="2")
register(service, "work", Path(source).read_text(), workflow=workflow, subscribe=("trig",))
print("READY", flush=True)
threading.Event().wait()
