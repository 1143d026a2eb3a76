"""verity_client.Client: a thin, synchronous wrapper over verityd's gRPC API."""

import numbers
import typing

import grpc

from . import _convert
from ._proto import (
    cache_pb2,
    cache_pb2_grpc,
    collections_pb2,
    collections_pb2_grpc,
    common_pb2,
    context_pb2,
    context_pb2_grpc,
    health_pb2,
    health_pb2_grpc,
    monitor_pb2,
    monitor_pb2_grpc,
    prompts_pb2,
    prompts_pb2_grpc,
    records_pb2,
    records_pb2_grpc,
    search_pb2,
    search_pb2_grpc,
)
from ._convert import np  # None without numpy
from .errors import VerityError

# gRPC status code numbers (as a SearchStream answer carries them) -> names.
_STATUS_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class WriteResult(typing.NamedTuple):
    """What a write returns; unpacks as ``version, applied = ...``."""

    version: int  # the collection's new head version
    applied: int  # records upserted, or ids actually deleted


class SearchHits(list):
    """The hits of one query, nearest first: a list of hit dicts.

    Attributes:
      version: the version the search read.
      exact: True when the server searched by brute force.
    """

    def __init__(self, hits, version, exact):
        super().__init__(hits)
        self.version = version
        self.exact = exact


class Client:
    """A connection to one verityd.

    Every method makes one call with the client's ``timeout`` as its deadline
    (``scroll`` makes one per page) and raises ``VerityError`` when the call
    fails; arguments the client can check itself (types, unknown record keys,
    a metric name) raise ``TypeError`` or ``ValueError`` before any call.

    Reads take ``at``: a version number to read at (0 is the empty collection
    just after it was created), or None for the head. Filters are text in the
    syntax of docs/filters.md, e.g. ``'lang = "en" and year >= 2020'``; the
    server parses them and refuses a malformed one with INVALID_ARGUMENT.

    Thread-safe: one Client (one gRPC channel) can be shared by threads. Use
    it as a context manager, or call ``close()``, to close the channel.
    """

    DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # verityd's --max-message-bytes default

    def __init__(
        self,
        addr="127.0.0.1:7420",
        timeout=30.0,
        max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES,
        api_key=None,
        tls=False,
        tls_ca=None,
        tls_cert=None,
        tls_key=None,
    ):
        """Opens a channel to ``addr`` ("host:port"). Connects lazily: an
        unreachable server shows up as VerityError("UNAVAILABLE") on the
        first call. ``timeout`` is each call's deadline in seconds (verityd
        refuses calls without a deadline once its --default-deadline-ms has
        passed).

        Security (docs/security.md): ``api_key`` is sent with every call as
        ``authorization: Bearer <key>``. TLS is on when ``tls`` is true or a
        ``tls_*`` file is given: ``tls_ca`` is the PEM file of the CA that
        signed the server's certificate (default: the system's roots);
        ``tls_cert`` and ``tls_key`` are this client's certificate and key
        for a server that requires client certificates (mTLS). A file that
        cannot be read raises OSError here."""
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real)):
            raise TypeError(f"timeout: expected seconds as a number or None, got {type(timeout).__name__}")
        if api_key is not None and (not isinstance(api_key, str) or api_key != api_key.strip() or not api_key):
            raise ValueError("api_key: expected the key as a non-empty str without surrounding white space "
                             "(a key read from a file keeps its newline: strip it)")
        self.addr = addr
        self.timeout = timeout
        self._closed = False
        self._metadata = (("authorization", "Bearer " + api_key),) if api_key else None
        options = [
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
        ]
        if tls or tls_ca or tls_cert or tls_key:
            if bool(tls_cert) != bool(tls_key):
                raise ValueError("tls_cert and tls_key go together: give both or neither")

            def read(path):
                with open(path, "rb") as f:
                    return f.read()

            credentials = grpc.ssl_channel_credentials(
                root_certificates=read(tls_ca) if tls_ca else None,
                private_key=read(tls_key) if tls_key else None,
                certificate_chain=read(tls_cert) if tls_cert else None,
            )
            self._channel = grpc.secure_channel(addr, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(addr, options=options)
        self._collections = collections_pb2_grpc.CollectionServiceStub(self._channel)
        self._records = records_pb2_grpc.RecordServiceStub(self._channel)
        self._search = search_pb2_grpc.SearchServiceStub(self._channel)
        self._context = context_pb2_grpc.ContextServiceStub(self._channel)
        self._log = context_pb2_grpc.LogServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._prompts = prompts_pb2_grpc.PromptServiceStub(self._channel)
        self._cache = cache_pb2_grpc.CacheServiceStub(self._channel)
        self._monitor = monitor_pb2_grpc.MonitorServiceStub(self._channel)

    def close(self):
        """Closes the channel; calls made afterwards raise ValueError.
        Closing twice is harmless."""
        self._closed = True
        self._channel.close()

    def _check_open(self):
        if self._closed:
            raise ValueError("this Client is closed (close() was called, or its with block ended)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Client(addr={self.addr!r}, timeout={self.timeout!r})"

    def _call(self, method, stub_method, request):
        self._check_open()
        try:
            return stub_method(request, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise VerityError.from_rpc_error(e, method) from e

    def _every_page(self, method, stub_method, request):
        """Yields each page (response) of a paged list call (start_at, limit,
        next_start_at). A page refused for its size (verityd's refusal names
        --max-message-bytes; gRPC's own says "larger than max") is asked for
        again at half the size."""
        while True:
            try:
                resp = self._call(method, stub_method, request)
            except VerityError as e:
                too_large = "--max-message-bytes" in e.message or "larger than max" in e.message
                if e.code == "RESOURCE_EXHAUSTED" and too_large and request.limit > 1:
                    request.limit //= 2
                    continue
                raise
            yield resp
            if resp.next_start_at == 0:
                return
            if resp.next_start_at <= request.start_at:
                raise VerityError("INTERNAL", f"{method}: the server's next page does not move forward", method)
            request.start_at = resp.next_start_at

    # ----- health -------------------------------------------------------------

    def health(self, service=""):
        """Returns the server's serving status as a string: "SERVING", or
        "NOT_SERVING" while it shuts down. Raises VerityError (UNAVAILABLE
        when the server cannot be reached, NOT_FOUND for an unknown
        ``service``)."""
        resp = self._call("Health.Check", self._health.Check, health_pb2.HealthCheckRequest(service=service))
        return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)

    # ----- collections --------------------------------------------------------

    def create_collection(
        self,
        name,
        dimension,
        metric="l2",
        m=None,
        ef_construction=None,
        default_ef=None,
        text_index=None,
        sparse_fields=None,
    ):
        """Creates a collection and returns its info dict (see
        ``get_collection``). ``metric`` is "l2" (squared Euclidean), "ip"
        (1 - dot) or "cosine" (1 - cos); None for ``m``, ``ef_construction``
        or ``default_ef`` means the server's default (16, 200, 64).

        ``text_index`` (docs/text-search.md) adds a full-text (BM25) index of
        the records' text: an analyzer preset, "standard" or "english", or a
        dict with "preset" and optionally "k1" (0..3, default 1.2), "b"
        (0..1, default 0.75) and analyzer fields overriding the preset's
        ("case_fold", "ascii_fold", "stopwords", "stemmer",
        "max_term_bytes"). ``sparse_fields`` names sparse-vector fields: a
        list of names, or a dict of name to dimension (indices below it;
        None: 2**31). ``dimension`` 0 makes a collection without dense
        vectors, which needs a text index or a sparse field.

        Raises ValueError for an unknown metric or analyzer preset (or an
        unknown text_index key), TypeError for arguments of the wrong type;
        VerityError ALREADY_EXISTS if the name is taken, INVALID_ARGUMENT
        naming the field (e.g. "config.text_index.k1: 5 is outside 0..3")."""
        config = common_pb2.CollectionConfig(
            name=_convert.text(name, "name"),
            dimension=_convert.integer(dimension, "dimension", 0, 0xFFFFFFFF),  # 0 and the limit: the server's
            metric=_convert.metric_to_proto(metric),
            m=_convert.uint32(m, "m"),
            ef_construction=_convert.uint32(ef_construction, "ef_construction"),
            default_ef=_convert.uint32(default_ef, "default_ef"),
        )
        if text_index is not None:
            _convert.text_index_to_proto(text_index, config.text_index)
        if sparse_fields is not None:
            _convert.sparse_fields_to_proto(sparse_fields, config.sparse_fields)
        resp = self._call(
            "CollectionService.CreateCollection",
            self._collections.CreateCollection,
            collections_pb2.CreateCollectionRequest(config=config),
        )
        return _convert.collection_from_proto(resp.collection)

    def set_text_index(self, collection, text_index):
        """Changes a collection's full-text index, or gives it one, and
        returns its info dict (see ``get_collection``). ``text_index`` is as
        ``create_collection``'s: a preset name or a dict. Any change is a new
        analyzer version (``text_index["analyzer_version"]`` in the result)
        and every row is analysed again; searches at every version use the
        new settings, and a replay of a retrieval logged with an older
        analyzer version says so. Raises ValueError / TypeError as
        ``create_collection``; VerityError NOT_FOUND, INVALID_ARGUMENT naming
        the field (e.g. "text_index.k1: 5 is outside 0..3")."""
        request = collections_pb2.SetTextIndexRequest(collection=_convert.text(collection, "collection"))
        _convert.text_index_to_proto(text_index, request.text_index)
        resp = self._call("CollectionService.SetTextIndex", self._collections.SetTextIndex, request)
        return _convert.collection_from_proto(resp.collection)

    def get_collection(self, name):
        """Returns a dict: name, dimension, metric ("l2", "ip" or "cosine"),
        m, ef_construction, default_ef, head_version, created_at_us (Unix
        microseconds), live_records, graph_nodes, text_index (None, or a dict
        of preset, k1, b, the analyzer's fields and analyzer_version),
        sparse_fields (a dict of name to dimension), unavailable ("" when the
        collection serves). Raises VerityError NOT_FOUND if there is no such
        collection, DATA_LOSS if it was found damaged at start."""
        resp = self._call(
            "CollectionService.GetCollection",
            self._collections.GetCollection,
            collections_pb2.GetCollectionRequest(name=name),
        )
        return _convert.collection_from_proto(resp.collection)

    def list_collections(self):
        """Returns every collection's info dict (as ``get_collection``),
        sorted by name; one found damaged at start is listed with
        ``unavailable`` saying why. Raises VerityError."""
        resp = self._call(
            "CollectionService.ListCollections",
            self._collections.ListCollections,
            collections_pb2.ListCollectionsRequest(),
        )
        return [_convert.collection_from_proto(c) for c in resp.collections]

    def drop_collection(self, name):
        """Removes a collection with all its versions; returns None. Raises
        VerityError NOT_FOUND if there is no such collection."""
        self._call(
            "CollectionService.DropCollection",
            self._collections.DropCollection,
            collections_pb2.DropCollectionRequest(name=name),
        )

    def list_versions(self, name):
        """Returns every committed version of a collection, oldest first
        (version 0 is its creation), as dicts: version, committed_at_us,
        upserted, deleted. Fetched a page (1000 versions) per call. Raises
        VerityError NOT_FOUND."""
        request = collections_pb2.ListVersionsRequest(collection=name, limit=1000)
        pages = self._every_page("CollectionService.ListVersions", self._collections.ListVersions, request)
        return [_convert.version_from_proto(v) for page in pages for v in page.versions]

    # ----- records ------------------------------------------------------------

    def upsert(self, collection, records):
        """Writes records as one atomic, durable batch and returns a
        WriteResult (version, applied): the new head version and how many
        records were written.

        Each record is a dict with "id" (str) and "vector" (a sequence of
        numbers or a 1-D numpy array; left out in a collection of dimension
        0), and optionally "text", "document_id" (str), "metadata": a dict of
        str to str, int, float, bool or list of str (bool travels as a bool,
        never as 0/1), and "sparse": a dict of sparse field name to
        {"indices": [...], "values": [...]} (indices strictly increasing).

        Raises TypeError/ValueError for a malformed record dict (naming it,
        e.g. 'records[2].metadata["tags"][0]'); VerityError NOT_FOUND for the
        collection, INVALID_ARGUMENT naming the record and field (e.g.
        "records[0].vector: has 3 components; the collection's dimension is
        4", 'records[1].sparse["splade"].indices[2]: ...'),
        RESOURCE_EXHAUSTED past the server's --max-batch."""
        if isinstance(records, dict):
            raise TypeError("records: expected a list of record dicts, got one dict (wrap it in a list)")
        if records is None or not hasattr(records, "__iter__"):
            raise TypeError(f"records: expected a list of record dicts, got {type(records).__name__}")
        request = records_pb2.UpsertRequest(collection=collection)
        for i, record in enumerate(records):
            _convert.record_to_proto(record, request.records.add(), f"records[{i}]")
        resp = self._call("RecordService.Upsert", self._records.Upsert, request)
        return WriteResult(resp.version, resp.applied)

    def delete(self, collection, ids):
        """Deletes records by id as one atomic batch and returns a
        WriteResult (version, applied): the new head version and how many ids
        were live and so deleted (ids that are not live are ignored; when none
        is, nothing is written and version is the unchanged head).
        Raises TypeError if ``ids`` is a str rather than a list; VerityError
        NOT_FOUND for the collection, INVALID_ARGUMENT for an empty batch or
        repeated ids."""
        resp = self._call(
            "RecordService.Delete",
            self._records.Delete,
            records_pb2.DeleteRequest(collection=collection, ids=_convert.text_list(ids, "ids")),
        )
        return WriteResult(resp.version, resp.applied)

    def get(self, collection, id, at=None):
        """Returns the record live under ``id`` at version ``at`` (None: the
        head) as a dict: id, vector (list of float), text, document_id,
        metadata, sparse (a dict of sparse field name to {"indices",
        "values"}), row_version (the version that wrote it). Raises VerityError
        NOT_FOUND if the collection is missing or the id has no live row at
        that version, INVALID_ARGUMENT if ``at`` is past the head."""
        request = records_pb2.GetRequest(collection=collection, id=id)
        _convert.set_read_at(at, request)
        resp = self._call("RecordService.Get", self._records.Get, request)
        return _convert.record_from_proto(resp.record.record, resp.record.row_version)

    def scroll(self, collection, at=None, limit=100, filter=None, with_vectors=False):
        """Yields every record live at version ``at`` (None: the head) that
        passes ``filter``, in id (byte) order, as dicts like ``get`` returns
        ("vector" is None unless ``with_vectors``). Fetches ``limit`` records
        (1..10000) per call, lazily.

        All pages read the same version: when ``at`` is None the version the
        first page read is pinned for the rest, so writes made while the
        caller iterates are not seen.

        A generator: errors are raised while iterating, as VerityError
        (NOT_FOUND for the collection, INVALID_ARGUMENT for the filter,
        limit or version)."""
        request = records_pb2.ScrollRequest(
            collection=collection,
            limit=_convert.integer(limit, "limit", 1, 0xFFFFFFFF),  # its upper limit is the server's
            filter=_convert.check_filter(filter),
            with_vectors=with_vectors,
        )
        _convert.set_read_at(at, request)
        while True:
            resp = self._call("RecordService.Scroll", self._records.Scroll, request)
            for r in resp.records:
                yield _convert.record_from_proto(r.record, r.row_version, with_vectors)
            if not resp.next_cursor:
                return
            request.start_after = resp.next_cursor
            request.at.version = resp.version

    def count(self, collection, at=None, filter=None):
        """Returns how many records are live at version ``at`` (None: the
        head) and pass ``filter``. Raises VerityError NOT_FOUND for the
        collection, INVALID_ARGUMENT for the filter (with its column) or a
        version past the head."""
        request = records_pb2.CountRequest(collection=collection, filter=_convert.check_filter(filter))
        _convert.set_read_at(at, request)
        return self._call("RecordService.Count", self._records.Count, request).count

    # ----- search -------------------------------------------------------------

    def _query(self, vector, k, ef, filter, at, with_payload, with_vectors, plan, legs=None):
        """One SearchQuery; ``vector`` is already a list of floats; ``legs``
        the arguments of ``_convert.set_query_legs`` (None: none)."""
        query = search_pb2.SearchQuery(
            k=_convert.uint32(k, "k", minimum=1),
            ef=_convert.uint32(ef, "ef"),
            filter=_convert.check_filter(filter),
            with_payload=with_payload,
            with_vectors=with_vectors,
            plan=_convert.plan_to_proto(plan),
        )
        query.vector.extend(vector)
        _convert.set_read_at(at, query)
        if legs is not None:
            _convert.set_query_legs(query, *legs)
        return query

    def _hits(self, resp, with_payload, with_vectors):
        hits = [_convert.hit_from_proto(h, with_payload, with_vectors) for h in resp.hits]
        return SearchHits(hits, resp.version, resp.exact)

    def search(
        self,
        collection,
        vector=None,
        k=10,
        ef=None,
        filter=None,
        at=None,
        with_payload=True,
        with_vectors=False,
        plan=None,
        text=None,
        sparse_field=None,
        sparse=None,
        fusion=None,
        rrf_k=None,
        weights=None,
        leg_limit=None,
    ):
        """Returns the ``k`` best records at version ``at`` that pass
        ``filter`` for a query of one to three legs (docs/text-search.md):
        ``vector`` (a sequence of numbers or a 1-D numpy array: the nearest
        records), ``text`` (a BM25 query over the collection's text index)
        and ``sparse`` (a dict {"indices": [...], "values": [...]}: the
        largest dot products over the sparse field ``sparse_field``). At
        least one is needed; with two or more the legs are fused: ``fusion``
        "rrf" (the default: reciprocal rank fusion, constant ``rrf_k``,
        default 60) or "convex" (weighted min-max normalised scores);
        ``weights`` a dict of "dense", "text", "sparse" to a weight
        (default 1 each); ``leg_limit`` hits each leg fetches (default 100).

        Returns a SearchHits list (best first; ``.version`` is the version
        read, ``.exact`` whether it searched by brute force) of dicts: id,
        row_version, distance (smaller is closer; 0 when the dense leg did
        not find the hit), score (BM25, dot product or fused score, larger
        is better; 0 for a dense-only search), legs (None unless hybrid;
        else a dict of the query's legs, "dense", "text", "sparse", each
        {"rank": from 0 in that leg's ranking, "score": its distance or
        score}, both None where the leg did not find the hit), text,
        document_id, metadata (these three None unless ``with_payload``),
        vector (None unless ``with_vectors``). ``ef`` is the search breadth
        (None: the collection's default_ef); ``plan`` is None/"auto",
        "exact" or "graph".

        Raises TypeError / ValueError naming the argument for one of the
        wrong type or range (k must be an int >= 1: 0 is refused here, not
        taken as the server's default of 10; an unknown fusion or weights
        key; sparse without sparse_field); VerityError NOT_FOUND for the
        collection, FAILED_PRECONDITION for a text query on a collection
        without a text index ("query.text: ..."), INVALID_ARGUMENT for the
        vector's dimension, the sparse vector, a query without any leg, k
        above --max-k, ef, the filter or the version."""
        query = self._query(
            [] if vector is None else _convert.vector_to_list(vector, "vector"),
            k,
            ef,
            filter,
            at,
            with_payload,
            with_vectors,
            plan,
            (text, sparse_field, sparse, fusion, rrf_k, weights, leg_limit),
        )
        resp = self._call(
            "SearchService.Search",
            self._search.Search,
            search_pb2.SearchRequest(collection=collection, query=query),
        )
        return self._hits(resp, with_payload, with_vectors)

    def batch_search(
        self,
        collection,
        vectors,
        k=10,
        ef=None,
        filter=None,
        at=None,
        with_payload=True,
        with_vectors=False,
        plan=None,
    ):
        """Runs one query per vector in one call (the server runs them in
        parallel), all with the same k, ef, filter, at and payload options.
        ``vectors`` is a sequence of vectors or a 2-D numpy array (one row
        per query). Returns a list with one SearchHits per query, in query
        order (see ``search``). Raises VerityError as ``search`` does, with
        the query's index in the message (``queries[2].k: ...``), and
        INVALID_ARGUMENT for an empty batch."""
        vectors = _convert.vectors_to_lists(vectors, "vectors")
        request = search_pb2.BatchSearchRequest(collection=collection)
        for v in vectors:
            request.queries.append(self._query(v, k, ef, filter, at, with_payload, with_vectors, plan))
        resp = self._call("SearchService.BatchSearch", self._search.BatchSearch, request)
        return [self._hits(r, with_payload, with_vectors) for r in resp.results]

    def search_stream(
        self,
        collection,
        vectors,
        k=10,
        ef=None,
        filter=None,
        at=None,
        with_payload=True,
        with_vectors=False,
        plan=None,
        timeout=3600.0,
    ):
        """Searches for each vector of ``vectors`` (any iterable of vectors,
        read lazily: a generator works) over one SearchStream call, and
        yields one item per vector, in order: its SearchHits (see
        ``search``), or -- for a query the server refused -- a VerityError
        *instance* (not raised; the stream goes on). For high query rates a
        query on an open stream costs both sides less than a ``search``
        call (docs/server.md, "Search streams").

        Raises VerityError for the stream itself (UNAVAILABLE, the
        ``timeout`` in seconds for the whole stream passing:
        DEADLINE_EXCEEDED, UNAUTHENTICATED), and TypeError / ValueError
        for a vector that is not a 1-D sequence of numbers (or whatever
        ``vectors`` itself raised), after yielding the answers to the
        vectors before it."""
        method = "SearchService.SearchStream"
        refused_locally = []
        self._check_open()
        if vectors is None or isinstance(vectors, (str, bytes)) or not hasattr(vectors, "__iter__"):
            raise TypeError(f"vectors: expected an iterable of vectors, got {type(vectors).__name__}")
        if (np is not None and isinstance(vectors, np.ndarray) and vectors.ndim == 1) or (
            isinstance(vectors, (list, tuple)) and vectors and isinstance(vectors[0], numbers.Real)
        ):
            raise TypeError("vectors: got one vector; search_stream takes an iterable of vectors "
                            "(for one query, use search())")

        def requests():
            # gRPC reads this on a thread of its own and would turn an
            # exception into an UNKNOWN status: keep it, end the stream, and
            # raise it after the answers to the vectors before it.
            try:
                for i, v in enumerate(vectors):
                    vector = _convert.vector_to_list(v, f"vectors[{i}]")
                    query = self._query(vector, k, ef, filter, at, with_payload, with_vectors, plan)
                    yield search_pb2.SearchRequest(collection=collection, query=query)
            except Exception as e:  # noqa: BLE001 -- re-raised below, on the caller's thread
                refused_locally.append(e)

        answers = self._search.SearchStream(requests(), timeout=timeout, metadata=self._metadata)
        try:
            for answer in answers:
                if answer.code != 0:
                    yield VerityError(_STATUS_NAMES.get(answer.code, "UNKNOWN"), answer.message, method)
                else:
                    yield self._hits(answer.response, with_payload, with_vectors)
        except grpc.RpcError as e:
            raise VerityError.from_rpc_error(e, method) from e
        finally:
            answers.cancel()  # a no-op once the stream has ended; ends it if the caller stopped early
        if refused_locally:
            raise refused_locally[0]

    # ----- context service ------------------------------------------------------

    def retrieve(
        self,
        collection,
        vector=None,
        k=None,
        query_text=None,
        ef=None,
        filter=None,
        at=None,
        token_budget=None,
        prompt=None,
        client_trace_id=None,
        client_id=None,
        text=None,
        sparse_field=None,
        sparse=None,
        fusion=None,
        rrf_k=None,
        weights=None,
        leg_limit=None,
    ):
        """Retrieves the context for a question: searches like ``search`` and
        writes a record of what was retrieved to the server's retrieval log
        (durable before this returns). Pass the returned ``retrieval_id`` to
        ``record_answer`` once the model has answered.

        ``at`` is a version number, a snapshot name (str; logged by name) or
        None for the head. ``token_budget`` (None: no budget) keeps the
        best-ranked chunks whose estimated tokens (one per 4 bytes of text)
        fit. ``query_text`` (the question), ``prompt`` (a registered prompt as
        "name", "name@7" or "name@label", logged as the exact "name@N" it
        resolves to; other text is logged as given), ``client_trace_id`` and
        ``client_id`` are logged for audits.

        ``vector`` None (or empty) with a ``filter`` is a retrieval by filter
        alone (an auditor giving a model a known source, e.g.
        ``filter='document_id = "handbook"'``): every chunk the filter
        matches, in document order (document_id, then id), at distance 0, up
        to the token budget; ``k`` is then the most it takes (None: the
        server's --max-k; more matches raise FAILED_PRECONDITION rather than
        being cut). Otherwise ``k`` is the number of nearest chunks (None: 10).
        A retrieval that finds no chunk (a filter matching nothing) raises
        FAILED_PRECONDITION and logs nothing.

        ``text``, ``sparse_field`` / ``sparse``, ``fusion``, ``rrf_k``,
        ``weights`` and ``leg_limit`` are the text and sparse legs and their
        fusion, as ``search`` takes them: a retrieval may be by vector, by
        text (``query_text`` then defaults to it in the log), by sparse
        vector, or hybrid.

        Returns a dict: retrieval_id ("rtv-" + 32 hex digits), log_seq,
        version (read), exact, chunks (best first: id, row_version,
        distance, score, legs (as ``search``'s hits), text, text_sha256,
        document_id, tokens, in_context),
        context (the in-context texts joined by blank lines),
        context_sha256, context_tokens, prompt (as logged).

        Raises VerityError NOT_FOUND for the collection or snapshot,
        INVALID_ARGUMENT for the vector, k (1..--max-k), ef or the filter."""
        request = context_pb2.RetrieveRequest(
            collection=collection,
            query_text=_convert.text(query_text, "query_text"),
            k=0 if k is None else _convert.uint32(k, "k", minimum=1),
            ef=_convert.uint32(ef, "ef"),
            filter=_convert.check_filter(filter),
            token_budget=_convert.uint32(token_budget, "token_budget"),
            prompt=_convert.text(prompt, "prompt"),
            client_trace_id=_convert.text(client_trace_id, "client_trace_id"),
            client_id=_convert.text(client_id, "client_id"),
        )
        if vector is not None:
            request.vector.extend(_convert.vector_to_list(vector, "vector"))
        _convert.set_query_legs(request, text, sparse_field, sparse, fusion, rrf_k, weights, leg_limit)
        _convert.set_read_point(at, request)
        resp = self._call("ContextService.Retrieve", self._context.Retrieve, request)
        return _convert.retrieval_from_proto(resp)

    def record_answer(self, retrieval_id, answer, model=None, prompt_tokens=None, completion_tokens=None):
        """Records the answer generated from a retrieval's context as a new
        record of the retrieval log, and returns that record as a dict: seq,
        time_us, retrieval_id, collection, version, answer, model,
        prompt_tokens, completion_tokens, prev_hash, hash (the log's hash
        chain). Answers are immutable.

        Raises VerityError NOT_FOUND for an unknown retrieval id,
        ALREADY_EXISTS if it already has an answer, INVALID_ARGUMENT for an
        empty answer or one over 1 MiB."""
        if not isinstance(answer, str):
            raise TypeError(f"answer: expected str, got {type(answer).__name__}")
        request = context_pb2.RecordAnswerRequest(
            retrieval_id=retrieval_id,
            answer=_convert.text(answer, "answer"),
            model=_convert.text(model, "model"),
            prompt_tokens=_convert.uint32(prompt_tokens, "prompt_tokens"),
            completion_tokens=_convert.uint32(completion_tokens, "completion_tokens"),
        )
        resp = self._call("ContextService.RecordAnswer", self._context.RecordAnswer, request)
        return _convert.answer_record_from_proto(resp.record)

    # ----- prompt registry (docs/prompts.md) ---------------------------------------

    @staticmethod
    def _selector(prompt):
        """A PromptSelector from "name", "name@7" or "name@label"."""
        if not isinstance(prompt, str) or not prompt:
            raise TypeError("prompt: expected 'name', 'name@version' or 'name@label'")
        name, _, which = prompt.partition("@")
        selector = prompts_pb2.PromptSelector(name=name)
        if which.isascii() and which.isdigit():
            # Refused here as the CLI does: 0 would travel as "no version" (the
            # production label), and protobuf's own refusal names no field.
            version = int(which)
            if not 1 <= version <= 0xFFFFFFFF:
                raise ValueError(f"prompt: version in {prompt!r} must be 1..4294967295")
            selector.version = version
        elif which:
            selector.label = which
        return selector

    def create_prompt(self, name, template, config_json=None, author=None, message=None, labels=()):
        """Adds the next immutable version of prompt ``name`` (1 creates it)
        and points ``labels`` (e.g. ["production"]) at it, in one write.
        Returns the version as a dict (name, version, template, config_json,
        author, message, created_at_us, variables, labels).

        Raises VerityError INVALID_ARGUMENT for the template (unbalanced
        braces, naming the byte offset) or a config that is not a JSON object."""
        request = prompts_pb2.CreatePromptVersionRequest(
            name=name,
            template=template,
            config_json=config_json or "",
            author=author or "",
            message=message or "",
        )
        request.labels.extend(_convert.text_list(labels, "labels"))
        resp = self._call("PromptService.CreatePromptVersion", self._prompts.CreatePromptVersion, request)
        return _convert.prompt_from_proto(resp.prompt)

    def get_prompt(self, prompt):
        """One version: "name" (its production label), "name@7" or
        "name@label". Raises VerityError NOT_FOUND naming what is missing."""
        request = prompts_pb2.GetPromptRequest(prompt=self._selector(prompt))
        resp = self._call("PromptService.GetPrompt", self._prompts.GetPrompt, request)
        return _convert.prompt_from_proto(resp.prompt)

    def list_prompts(self):
        """Every prompt: a list of dicts (name, latest_version, labels)."""
        resp = self._call("PromptService.ListPrompts", self._prompts.ListPrompts, prompts_pb2.ListPromptsRequest())
        return [
            {"name": p.name, "latest_version": p.latest_version, "labels": dict(p.labels)} for p in resp.prompts
        ]

    def list_prompt_versions(self, name):
        """Every version of prompt ``name``, oldest first, as dicts (as
        ``get_prompt`` returns). Fetched a page (up to 100 versions) per
        call; a page whose templates exceed the message limit is asked for
        again at half the size. Raises VerityError NOT_FOUND."""
        request = prompts_pb2.ListPromptVersionsRequest(name=name, limit=100)
        pages = self._every_page("PromptService.ListPromptVersions", self._prompts.ListPromptVersions, request)
        return [_convert.prompt_from_proto(p) for page in pages for p in page.versions]

    def set_prompt_label(self, name, label, version, actor=None):
        """Points ``label`` at ``version`` (a rollback is moving "production"
        back) and returns the recorded move (label, version,
        previous_version, actor, moved_at_us)."""
        request = prompts_pb2.SetPromptLabelRequest(
            name=name, label=label, version=_convert.uint32(version, "version", minimum=1), actor=actor or ""
        )
        resp = self._call("PromptService.SetPromptLabel", self._prompts.SetPromptLabel, request)
        return _convert.label_move_from_proto(resp.move)

    def prompt_label_history(self, name, label=None):
        """The moves of ``label`` (or of every label), oldest first."""
        request = prompts_pb2.GetLabelHistoryRequest(name=name, label=label or "")
        resp = self._call("PromptService.GetLabelHistory", self._prompts.GetLabelHistory, request)
        return [_convert.label_move_from_proto(m) for m in resp.moves]

    def render_prompt(self, prompt, variables):
        """Renders a version's template with ``variables`` (a dict of str).
        Returns (text, version). Raises VerityError INVALID_ARGUMENT naming a
        variable the template uses without a value."""
        request = prompts_pb2.RenderPromptRequest(prompt=self._selector(prompt))
        if not isinstance(variables, dict):
            raise TypeError(f"variables: expected a dict of str to str, got {type(variables).__name__}")
        for key, value in variables.items():
            request.variables[_convert.text(key, "variables key")] = _convert.text(value, f"variables[{key!r}]")
        resp = self._call("PromptService.RenderPrompt", self._prompts.RenderPrompt, request)
        return resp.text, resp.version

    # ----- answer cache (docs/answer-cache.md) -------------------------------------

    def cache_store(self, retrieval_id, answer=None, model=None, params_json=None):
        """Caches the answer of a logged retrieval (its recorded answer unless
        ``answer`` is given) for later lookups with the same model and
        parameters. Raises VerityError NOT_FOUND (retrieval id),
        FAILED_PRECONDITION (no answer recorded and none given),
        INVALID_ARGUMENT (params_json not a JSON object)."""
        request = cache_pb2.CacheStoreRequest(
            retrieval_id=retrieval_id, answer=answer or "", model=model or "", params_json=params_json or ""
        )
        self._call("CacheService.CacheStore", self._cache.CacheStore, request)

    def cache_lookup(self, collection, vector, query_text="", prompt=None, model=None, params_json=None, at=None,
                     min_similarity=None, exact_only=False, client_trace_id=None, client_id=None):
        """Looks up a cached answer for a question at the collection's head
        (or version ``at``) under the prompt (resolved as retrieve does), model
        and parameters. Returns a dict: match ("miss", "exact", "semantic"),
        answer, source_retrieval_id, similarity, version, prompt, refused
        (candidates refused because numbers, negations or names differ),
        refused_reason, and for a hit retrieval_id: the hit's own record in
        the retrieval log (cite it; audit and replay follow it to the source),
        log_seq and context_sha256 (the source's). A miss is not an error."""
        request = cache_pb2.CacheLookupRequest(
            collection=collection,
            query_text=query_text or "",
            prompt=prompt or "",
            model=model or "",
            params_json=params_json or "",
            exact_only=bool(exact_only),
            client_trace_id=client_trace_id or "",
            client_id=client_id or "",
        )
        request.vector.extend(_convert.vector_to_list(vector, "vector"))
        if min_similarity is not None:  # unset: the server's default (0.95); 0 is 0
            request.min_similarity = _convert.fraction(min_similarity, "min_similarity")
        if at is not None:
            request.at = _convert.integer(at, "at", 0, 2**64 - 1)
        resp = self._call("CacheService.CacheLookup", self._cache.CacheLookup, request)
        return {
            "match": {0: "miss", 1: "exact", 2: "semantic"}.get(resp.match, "miss"),
            "answer": resp.answer,
            "source_retrieval_id": resp.source_retrieval_id,
            "similarity": resp.similarity,
            "version": resp.version,
            "prompt": resp.prompt,
            "refused": resp.refused,
            "refused_reason": resp.refused_reason,
            "retrieval_id": resp.retrieval_id,
            "log_seq": resp.log_seq,
            "context_sha256": resp.context_sha256,
        }

    def cache_stats(self):
        """The cache's entries, bytes, bounds and counters as a dict."""
        resp = self._call("CacheService.GetCacheStats", self._cache.GetCacheStats, cache_pb2.GetCacheStatsRequest())
        return {
            name: getattr(resp, name)
            for name in ("entries", "bytes", "max_entries", "max_bytes", "stores", "exact_hits", "semantic_hits",
                         "misses", "refused_false_hits", "evictions")
        }

    def cache_clear(self):
        """Empties the answer cache (the counters stay)."""
        self._call("CacheService.ClearCache", self._cache.ClearCache, cache_pb2.ClearCacheRequest())

    # ----- the retrieval log: audits (docs/retrieval-log.md, docs/groundedness.md) --

    def get_retrieval(self, retrieval_id):
        """The log records of one retrieval: a dict with "retrieval" (its
        retrieval record, with the query vector) and "answer" (its answer
        record, or None when it has none yet). Records are dicts with the
        fields of LogRecord (docs/retrieval-log.md); "kind" is "retrieval",
        "answer" or "cache_hit". Raises VerityError NOT_FOUND for an unknown
        (or expired) retrieval id."""
        request = context_pb2.GetRetrievalRequest(retrieval_id=_convert.text(retrieval_id, "retrieval_id"))
        resp = self._call("LogService.GetRetrieval", self._log.GetRetrieval, request)
        return {
            "retrieval": _convert.message_to_dict(resp.retrieval),
            "answer": _convert.message_to_dict(resp.answer) if resp.HasField("answer") else None,
        }

    def _list_log_request(self, collection, since_us, until_us, kind, with_vectors):
        kinds = {None: 0, "retrieval": 1, "answer": 2, "cache_hit": 3}
        if kind not in kinds:
            raise ValueError(f"kind: expected None, 'retrieval', 'answer' or 'cache_hit', got {kind!r}")
        return context_pb2.ListLogRequest(
            collection=_convert.text(collection, "collection"),
            since_us=_convert.integer(since_us or 0, "since_us", 0, 2**63 - 1),
            until_us=_convert.integer(until_us or 0, "until_us", 0, 2**63 - 1),
            kind=kinds[kind],
            with_vectors=bool(with_vectors),
        )

    def list_log_page(self, collection=None, since_us=None, until_us=None, kind=None, start_after=0, limit=100,
                      with_vectors=False):
        """One page of log records, as ``verity log list`` reads them: records
        in sequence order after cursor ``start_after`` (0: from the first),
        at most ``limit`` (1..10000). Filters: ``collection`` (None: every
        one), ``since_us`` (inclusive) and ``until_us`` (exclusive) in Unix
        microseconds, ``kind`` ("retrieval", "answer", "cache_hit" or None).
        Returns a dict: "records" (dicts as ``get_retrieval`` returns) and
        "next_cursor" (pass it as ``start_after``; 0 on the last page).
        Raises VerityError INVALID_ARGUMENT for a limit outside 1..10000."""
        request = self._list_log_request(collection, since_us, until_us, kind, with_vectors)
        request.start_after = _convert.integer(start_after or 0, "start_after", 0, 2**64 - 1)
        # 0 would mean the server's default (100): refused here, as 1..10000 is the documented range.
        request.limit = _convert.integer(limit, "limit", 1, 0xFFFFFFFF)
        resp = self._call("LogService.ListLog", self._log.ListLog, request)
        return {"records": [_convert.message_to_dict(r) for r in resp.records], "next_cursor": resp.next_cursor}

    def list_log(self, collection=None, since_us=None, until_us=None, kind=None, limit=None, page_size=1000,
                 with_vectors=False):
        """Yields log records in sequence order, as ``verity log list`` lists
        them: every record passing the filters (see ``list_log_page``), at
        most ``limit`` of them (None: all), fetched ``page_size`` (1..10000)
        per call, lazily, following each page's cursor. A generator: errors
        are raised while iterating."""
        if limit is not None:
            limit = _convert.integer(limit, "limit", 0, 2**64 - 1)
        page_size = _convert.integer(page_size, "page_size", 1, 10000)
        cursor, seen = 0, 0
        while limit is None or seen < limit:
            size = page_size if limit is None else min(page_size, limit - seen)
            page = self.list_log_page(collection, since_us, until_us, kind, cursor, size, with_vectors)
            for r in page["records"]:
                yield r
            seen += len(page["records"])
            if not page["next_cursor"]:
                return
            if page["next_cursor"] <= cursor:
                raise VerityError("INTERNAL", "LogService.ListLog: the server's next page does not move forward",
                                  "LogService.ListLog")
            cursor = page["next_cursor"]

    def verify_log(self):
        """Walks the log's hash chain from the first retained record to the
        head. Returns a dict: ok, records (checked), first_seq, last_seq,
        head_hash (keep it elsewhere to anchor the chain), first_bad_seq and
        problem (when not ok). A chain that does not verify is not an error:
        "ok" is False."""
        resp = self._call("LogService.VerifyLog", self._log.VerifyLog, context_pb2.VerifyLogRequest())
        return _convert.message_to_dict(resp)

    def replay(self, retrieval_id, mode="context", at=None):
        """Replays a logged retrieval (docs/retrieval-log.md, "Replay"):
        ``mode`` "context" (rebuild the logged context from the logged row
        versions and check every hash), "retrieval" (re-run the logged query
        at the logged version with exact search) or "counterfactual" (run it
        at ``at``, a version number or snapshot name, None: the head, and
        diff). Returns a dict with the fields of ReplayResponse: mode,
        outcome ("identical", "differs" or "collected"), detail, version,
        chunks, context_sha256, context_hash_matches, recall, missed, added,
        removed, rank_changes, changed. Raises VerityError NOT_FOUND for the
        retrieval id or snapshot, INVALID_ARGUMENT for ``at`` outside
        counterfactual mode."""
        modes = {"context": 1, "retrieval": 2, "counterfactual": 3}
        if mode not in modes:
            raise ValueError(f"mode: expected 'context', 'retrieval' or 'counterfactual', got {mode!r}")
        request = context_pb2.ReplayRequest(retrieval_id=_convert.text(retrieval_id, "retrieval_id"),
                                            mode=modes[mode])
        _convert.set_read_point(at, request)
        return _convert.message_to_dict(self._call("LogService.Replay", self._log.Replay, request))

    def audit(self, retrieval_id, answer=None, threshold=None):
        """Scores an answer against a retrieval's logged context with the
        deterministic groundedness scorer (docs/groundedness.md): the
        recorded answer, or ``answer`` when given. ``threshold`` is the
        support a sentence needs, in [0, 1]; None: the scorer's default
        (0.6); 0 is a threshold of 0. Returns a dict with the fields of
        AuditResponse: retrieval_id, collection, version, answer,
        answer_recorded, chunks (id, text), prompt, source_retrieval_id,
        scorer_version, threshold (applied), g, scored, supported, sentences
        (text, begin, end, verdict "supported" / "unsupported" /
        "not_scored", support, chunk_id, ...). Raises VerityError NOT_FOUND
        (retrieval id), FAILED_PRECONDITION (no answer recorded and none
        given, or context rows collected), INVALID_ARGUMENT (threshold
        outside [0, 1], answer over 1 MiB), DATA_LOSS (a stored row no longer
        matches its logged hash)."""
        request = context_pb2.AuditRequest(retrieval_id=_convert.text(retrieval_id, "retrieval_id"))
        if answer is not None:
            if not isinstance(answer, str):
                raise TypeError(f"answer: expected str, got {type(answer).__name__}")
            request.answer = _convert.text(answer, "answer")
        if threshold is not None:  # unset: the scorer's default; a set 0 travels as 0
            request.threshold = _convert.fraction(threshold, "threshold")
        return _convert.message_to_dict(self._call("LogService.Audit", self._log.Audit, request))

    # ----- monitoring (docs/monitoring.md) ------------------------------------

    def annotate(self, retrieval_id, recompute=False):
        """The monitor's annotation of a retrieval's (or cache hit's) answer,
        computed and stored when missing (or always, with ``recompute``).
        Returns a dict with the fields of Annotation (proto/verity/v1/
        monitor.proto): g, groundedness_scored, unsupported_sentences,
        weak_retrieval, top1, empty_context, truncated_context, toxic,
        toxicity_matches (term, languages, begin, end), query_toxicity_matches
        (the same in the query, with verityd --toxicity-flag-queries), context_tokens,
        prompt_tokens, answer_tokens, tokens_saved, flags (names:
        "low_groundedness", "weak_retrieval", "empty_context",
        "truncated_context", "toxicity"), and the versions that computed
        them. Raises VerityError NOT_FOUND (retrieval id),
        FAILED_PRECONDITION (no answer recorded)."""
        request = monitor_pb2.AnnotateRequest(retrieval_id=_convert.text(retrieval_id, "retrieval_id"),
                                              recompute=bool(recompute))
        resp = self._call("MonitorService.Annotate", self._monitor.Annotate, request)
        return _convert.message_to_dict(resp.annotation)

    def annotate_log(self, collection=None, since_us=None, until_us=None, recompute=False, max_records=None):
        """Annotates the answers of a range that have no annotation (or every
        one, with ``recompute``): ``collection`` (None: every one),
        ``since_us`` (inclusive) and ``until_us`` (exclusive) in Unix
        microseconds, at most ``max_records`` log records read (None: the
        server's 1,000,000). Needs the admin permission. Returns a dict:
        examined, annotated, existing, failed, truncated, next_since_us
        (where to continue when truncated). Raises VerityError
        INVALID_ARGUMENT (range, max_records), NOT_FOUND (collection)."""
        request = monitor_pb2.AnnotateLogRequest(
            collection=_convert.text(collection, "collection"),
            since_us=_convert.integer(since_us or 0, "since_us", 0, 2**63 - 1),
            until_us=_convert.integer(until_us or 0, "until_us", 0, 2**63 - 1),
            recompute=bool(recompute),
            max_records=_convert.integer(max_records or 0, "max_records", 0, 2**64 - 1),
        )
        return _convert.message_to_dict(self._call("MonitorService.AnnotateLog", self._monitor.AnnotateLog, request))

    def monitor_report(self, collection, since_us=0, until_us=0, bucket_seconds=0, low_g=None, max_flagged=None,
                       ids_per_bucket=None, max_records=None):
        """One collection's monitoring signals over [since_us, until_us) (Unix
        microseconds; 0: from the log's start, to now) in buckets of
        ``bucket_seconds`` (0: the range in 60 buckets; at most 1000).
        ``low_g`` (None: 0.6) flags answers with G below it;
        ``max_flagged`` (None: 100, at most 10000) flagged answers are
        listed, ``ids_per_bucket`` (None: 10, at most 100) retrieval ids
        kept per bucket, ``max_records`` (None: 1,000,000) log records read.
        Returns a dict with the fields of GetMonitorReportResponse: totals
        and buckets (retrievals, answers, scored, mean_g, g_p10, low_g,
        weak, empty_context, truncated_context, toxic, tokens, drift),
        markers (kb_version and prompt changes), flagged (retrieval_id,
        time_us, flags, g, prompt, ...), flagged_total, prompts, live (the
        drift per leg), records_examined, truncated. Raises VerityError
        INVALID_ARGUMENT naming the field and its limit, NOT_FOUND
        (collection)."""
        request = monitor_pb2.GetMonitorReportRequest(
            collection=_convert.text(collection, "collection"),
            since_us=_convert.integer(since_us or 0, "since_us", -(2**63), 2**63 - 1),
            until_us=_convert.integer(until_us or 0, "until_us", -(2**63), 2**63 - 1),
            bucket_seconds=_convert.integer(bucket_seconds or 0, "bucket_seconds", -(2**63), 2**63 - 1),
            max_records=_convert.integer(max_records or 0, "max_records", 0, 2**64 - 1),
        )
        # Unset optional fields take the server's defaults; a set 0 travels as 0.
        if low_g is not None:
            request.low_g = _convert.fraction(low_g, "low_g")
        if max_flagged is not None:
            request.max_flagged = _convert.integer(max_flagged, "max_flagged", 0, 0xFFFFFFFF)
        if ids_per_bucket is not None:
            request.ids_per_bucket = _convert.integer(ids_per_bucket, "ids_per_bucket", 0, 0xFFFFFFFF)
        resp = self._call("MonitorService.GetMonitorReport", self._monitor.GetMonitorReport, request)
        return _convert.message_to_dict(resp)

    def reset_monitor_reference(self, collection):
        """Forgets the collection's retrieval-weakness references and drift
        windows (after an acknowledged change, e.g. a new knowledge base):
        the next retrievals rebuild them. Needs the admin permission. Raises
        VerityError NOT_FOUND (collection)."""
        request = monitor_pb2.ResetMonitorReferenceRequest(collection=_convert.text(collection, "collection"))
        self._call("MonitorService.ResetMonitorReference", self._monitor.ResetMonitorReference, request)
