"""The first script: proves a container ran, where, as whom, and when."""

import datetime
import os
import socket

print("Hello from kubernetes!!!")
print(f"Current datetime: {datetime.datetime.now().isoformat()}")
print(f"Hostname: {socket.gethostname()}")
print(f"Home directory: {os.path.expanduser('~')}")
print(f"User id: {os.getuid()}")
