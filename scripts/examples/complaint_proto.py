"""Load complaint_pb2, the Python code protoc generates from
proto/complaint.proto: from PYTHONPATH if it is there, else generated now
into a temporary directory (needs protoc: Debian's protobuf-compiler)."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO = os.path.join(HERE, "..", "..", "proto", "complaint.proto")


def load(proto=None):
    try:
        import complaint_pb2  # generated beforehand, on PYTHONPATH
        return complaint_pb2
    except ImportError:
        pass
    proto = os.path.abspath(proto or os.environ.get("COMPLAINT_PROTO") or DEFAULT_PROTO)
    out = tempfile.mkdtemp(prefix="complaint-pb-")
    atexit.register(shutil.rmtree, out, True)
    subprocess.run(["protoc", "--python_out=" + out, "-I", os.path.dirname(proto), proto], check=True)
    sys.path.insert(0, out)
    import complaint_pb2
    return complaint_pb2
