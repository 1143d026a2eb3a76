"""Python client for Verity's gRPC server, verityd.

The generated protobuf/gRPC modules are not committed: generate them with
``client/python/generate.sh OUT_DIR`` and put both OUT_DIR and
``client/python`` on ``PYTHONPATH``::

    client/python/generate.sh build/python-stubs
    export PYTHONPATH=$PWD/build/python-stubs:$PWD/client/python

Then::

    import verity_client

    with verity_client.Client("127.0.0.1:7420") as db:
        db.create_collection("docs", dimension=3, metric="cosine")
        version, applied = db.upsert("docs", [
            {"id": "a", "vector": [1, 0, 0], "text": "hello",
             "metadata": {"lang": "en", "year": 2024, "draft": False}},
        ])
        for hit in db.search("docs", [1, 0, 0], k=5, filter='lang = "en"'):
            print(hit["id"], hit["distance"], hit["text"])

Every failed call raises ``VerityError`` (``.code`` is the gRPC status
code's name, ``.message`` the server's message).
"""

from .client import Client, SearchHits, WriteResult
from .errors import VerityError

__all__ = ["Client", "SearchHits", "VerityError", "WriteResult"]
