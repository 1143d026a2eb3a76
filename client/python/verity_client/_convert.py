"""Conversions between Python values and the wire messages, in one place.

Python-side problems (a wrong type, an unknown record key, a number the wire
type cannot hold) raise TypeError or ValueError naming the field the way the
server does (``records[3].vector[2]``); everything the server can check
(dimension, finiteness, limits) is left to it, so there is one source of truth
for the rules. A number is never narrowed silently: an int metadata value must
fit int64, and a vector component must fit a float32 (protobuf would turn 1e39
into infinity, which the server then reports as "infinite").
"""

import collections.abc
import math
import numbers

try:
    import numpy as np
except ImportError:  # numpy is optional: plain lists work without it
    np = None

from ._proto import common_pb2, search_pb2

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# The largest float32, and where a double starts to round to infinity as a
# float32 (FLT_MAX plus half a unit in the last place, 2**128 - 2**103).
_FLOAT_MAX = float.fromhex("0x1.fffffep+127")
_FLOAT_LIMIT = float.fromhex("0x1.ffffffp+127")
_FLOAT_RANGE = "the float range ±3.4028235e38"

_METRICS = {
    "l2": common_pb2.METRIC_L2,
    "ip": common_pb2.METRIC_IP,
    "cosine": common_pb2.METRIC_COSINE,
}
_METRIC_NAMES = {v: k for k, v in _METRICS.items()}
_METRIC_NAMES[common_pb2.METRIC_UNSPECIFIED] = "l2"

_PLANS = {
    "auto": search_pb2.SEARCH_PLAN_AUTO,
    "exact": search_pb2.SEARCH_PLAN_EXACT,
    "graph": search_pb2.SEARCH_PLAN_GRAPH,
}

_RECORD_KEYS = ("id", "vector", "text", "document_id", "metadata", "sparse")

_ANALYZER_PRESETS = ("standard", "english")
_TEXT_INDEX_KEYS = ("preset", "k1", "b", "case_fold", "ascii_fold", "stopwords", "stemmer", "max_term_bytes", "fields")
_FUSION_METHODS = {
    "rrf": common_pb2.FUSION_METHOD_RRF,
    "convex": common_pb2.FUSION_METHOD_CONVEX,
}
_WEIGHT_KEYS = ("dense", "text", "sparse")


def metric_to_proto(metric):
    try:
        return _METRICS[str(metric).lower()]
    except KeyError:
        raise ValueError(f"metric: {metric!r} is not one of {', '.join(_METRICS)}") from None


def plan_to_proto(plan):
    if plan is None:
        return search_pb2.SEARCH_PLAN_AUTO
    try:
        return _PLANS[str(plan).lower()]
    except KeyError:
        raise ValueError(f"plan: {plan!r} is not one of {', '.join(_PLANS)}") from None


def _is_bool(value):
    return isinstance(value, bool) or (np is not None and isinstance(value, np.bool_))


def vector_to_list(vector, field):
    """A 1-D list of Python floats from a sequence or a 1-D numpy array of
    integers or floats. Refused: a set or a mapping (no order of their own:
    a set's order is not the caller's, a dict would give its keys), and a
    numpy array of strings, booleans, complex numbers or objects (numpy
    would convert them silently; a list of them is refused item by item)."""
    if np is not None and isinstance(vector, np.ndarray):
        if vector.ndim != 1:
            raise ValueError(f"{field}: expected a 1-D vector, got an array of shape {vector.shape}")
        if vector.dtype.kind not in "iuf":
            raise TypeError(f"{field}: expected an array of integers or floats, got dtype {vector.dtype}")
        _check_array_in_float_range(vector, field)
        return vector.astype(np.float32, copy=False).tolist()
    if (
        isinstance(vector, (str, bytes, collections.abc.Set, collections.abc.Mapping))
        or not hasattr(vector, "__iter__")
    ):
        raise TypeError(f"{field}: expected a sequence of numbers or a 1-D numpy array, got {type(vector).__name__}")
    out = []
    for i, x in enumerate(vector):
        if _is_bool(x) or not isinstance(x, numbers.Real):
            raise TypeError(f"{field}[{i}]: expected a number, got {type(x).__name__}")
        try:
            f = float(x)
        except OverflowError:  # an int no double holds
            raise ValueError(f"{field}[{i}]: {_shown(x)} is outside {_FLOAT_RANGE}") from None
        if not -_FLOAT_MAX <= f <= _FLOAT_MAX:  # rare: beyond FLT_MAX, or NaN
            f = _to_float32_range(x, f, f"{field}[{i}]")
        out.append(f)
    return out


def _shown(x):
    """A number as an error shows it: at most 40 characters."""
    text = repr(x) if isinstance(x, float) else str(x)
    return text if len(text) <= 40 else text[:40] + "..."


def _to_float32_range(x, f, field):
    """``f`` (``float(x)``), outside [-FLT_MAX, FLT_MAX] or NaN, as it goes on
    the wire. Between FLT_MAX and the rounding limit it becomes ±FLT_MAX (as
    float32 rounding makes it); beyond, a finite value is refused naming
    ``field``; NaN and infinity pass, for the server to refuse as not finite."""
    if math.isnan(f) or math.isinf(f):
        return f
    if abs(f) < _FLOAT_LIMIT:
        return math.copysign(_FLOAT_MAX, f)
    raise ValueError(f"{field}: {_shown(x)} is outside {_FLOAT_RANGE}")


def _check_array_in_float_range(array, field):
    """Refuses a numpy array (1-D or 2-D) with a finite component float32 cannot
    hold, naming the first one (numpy's cast would make it infinity)."""
    if array.dtype.kind != "f" or array.dtype.itemsize <= 4:
        return  # float32 itself, or integers (the largest, 2**64, fits a float32)
    too_large = np.isfinite(array) & (np.abs(array) >= _FLOAT_LIMIT)
    if too_large.any():
        where = np.argwhere(too_large)[0]
        index = "".join(f"[{int(i)}]" for i in where)
        raise ValueError(f"{field}{index}: {_shown(float(array[tuple(where)]))} is outside {_FLOAT_RANGE}")


def vectors_to_lists(vectors, field):
    """A list of vectors from a sequence of vectors or a 2-D numpy array."""
    if np is not None and isinstance(vectors, np.ndarray):
        if vectors.ndim != 2:
            raise ValueError(f"{field}: expected a 2-D array (one row per query), got shape {vectors.shape}")
        if vectors.dtype.kind not in "iuf":
            raise TypeError(f"{field}: expected an array of integers or floats, got dtype {vectors.dtype}")
        _check_array_in_float_range(vectors, field)
        return vectors.astype(np.float32, copy=False).tolist()
    if isinstance(vectors, (str, bytes)) or not hasattr(vectors, "__iter__"):
        raise TypeError(f"{field}: expected a sequence of vectors, got {type(vectors).__name__}")
    return [vector_to_list(v, f"{field}[{i}]") for i, v in enumerate(vectors)]


def set_metadata_value(value, out, field):
    """Fills a MetadataValue. bool is tested before int (bool is an int in
    Python) so True travels as bool_value, not int_value 1."""
    if _is_bool(value):
        out.bool_value = bool(value)
    elif isinstance(value, numbers.Integral):
        value = int(value)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(
                f"{field}: {_shown(value)} does not fit a 64-bit signed integer ({_INT64_MIN} to {_INT64_MAX}); "
                "pass it as a str to keep its digits"
            )
        out.int_value = value
    elif isinstance(value, numbers.Real):
        out.double_value = float(value)
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise TypeError(f"{field}[{i}]: list items must be str, got {type(item).__name__}")
        out.list_value.SetInParent()  # an empty list is still a list
        out.list_value.values.extend(value)
    else:
        raise TypeError(
            f"{field}: unsupported metadata type {type(value).__name__} (use str, int, float, bool or a list of str)"
        )


def metadata_value_from_proto(value):
    """The Python value of a MetadataValue; None if no kind is set."""
    kind = value.WhichOneof("kind")
    if kind == "list_value":
        return list(value.list_value.values)
    if kind is None:
        return None
    return getattr(value, kind)


def metadata_from_proto(metadata):
    """A dict sorted by key: protobuf maps have no order of their own, and a
    stable one makes printed records reproducible."""
    return {k: metadata_value_from_proto(metadata[k]) for k in sorted(metadata)}


def record_to_proto(record, out, field):
    if not isinstance(record, dict):
        raise TypeError(f"{field}: expected a dict with keys {', '.join(_RECORD_KEYS)}, got {type(record).__name__}")
    unknown = sorted(set(record) - set(_RECORD_KEYS))
    if unknown:
        raise ValueError(f"{field}: unknown key(s) {', '.join(map(repr, unknown))} (expected {', '.join(_RECORD_KEYS)})")
    if "id" not in record:
        raise ValueError(f"{field}.id: missing")
    if not isinstance(record["id"], str):
        raise TypeError(f"{field}.id: expected str, got {type(record['id']).__name__}")
    out.id = record["id"]
    # No vector: a record of a collection without dense vectors (dimension
    # 0); the server refuses it, naming the vector, for any other.
    if record.get("vector") is not None:
        out.vector.extend(vector_to_list(record["vector"], f"{field}.vector"))
    sparse = record.get("sparse") or {}
    if not isinstance(sparse, dict):
        raise TypeError(f"{field}.sparse: expected a dict of sparse vectors by field name, got {type(sparse).__name__}")
    for name, vector in sparse.items():
        if not isinstance(name, str):
            raise TypeError(f"{field}.sparse: keys must be str (field names), got {type(name).__name__}")
        sparse_to_proto(vector, out.sparse[name], f'{field}.sparse["{name}"]')
    for key in ("text", "document_id"):
        value = record.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise TypeError(f"{field}.{key}: expected str, got {type(value).__name__}")
        setattr(out, key, value)
    metadata = record.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise TypeError(f"{field}.metadata: expected a dict, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise TypeError(f"{field}.metadata: keys must be str, got {type(key).__name__}")
        set_metadata_value(value, out.metadata[key], f'{field}.metadata["{key}"]')


def sparse_to_proto(vector, out, field):
    """Fills a SparseVector from {"indices": [...], "values": [...]}.
    Indices must be ints in 0..2**32-1 (TypeError / ValueError naming
    ``field``.indices[i]); order, lengths and the field's dimension are the
    server's to check."""
    if not isinstance(vector, dict):
        raise TypeError(f'{field}: expected a dict {{"indices": [...], "values": [...]}}, got {type(vector).__name__}')
    unknown = sorted(set(vector) - {"indices", "values"})
    if unknown:
        raise ValueError(f"{field}: unknown key(s) {', '.join(map(repr, unknown))} (expected indices, values)")
    for key in ("indices", "values"):
        if key not in vector:
            raise ValueError(f"{field}.{key}: missing")
    indices = vector["indices"]
    if np is not None and isinstance(indices, np.ndarray):
        indices = indices.tolist()
    if isinstance(indices, (str, bytes, collections.abc.Set, collections.abc.Mapping)) or not hasattr(
        indices, "__iter__"
    ):
        raise TypeError(f"{field}.indices: expected a sequence of ints, got {type(indices).__name__}")
    for i, x in enumerate(indices):
        out.indices.append(integer(x, f"{field}.indices[{i}]", 0, 0xFFFFFFFF))
    out.values.extend(vector_to_list(vector["values"], f"{field}.values"))


def sparse_from_proto(vector):
    return {"indices": list(vector.indices), "values": list(vector.values)}


def record_from_proto(record, row_version, with_vectors=True):
    return {
        "id": record.id,
        "vector": list(record.vector) if with_vectors else None,
        "text": record.text,
        "document_id": record.document_id,
        "metadata": metadata_from_proto(record.metadata),
        "sparse": {name: sparse_from_proto(record.sparse[name]) for name in sorted(record.sparse)},
        "row_version": row_version,
    }


def leg_from_proto(leg):
    """A hybrid hit's leg: rank (from 0 in that leg's own ranking) and score
    (dense: the distance; text: BM25; sparse: the dot product); both None
    when the leg did not find the hit."""
    if leg.rank < 0:
        return {"rank": None, "score": None}
    return {"rank": leg.rank, "score": leg.score}


def legs_from_proto(message, names):
    """The legs the server set (a hybrid search's), by name: None when the
    search was not hybrid. ``names`` maps the wire field to the key."""
    legs = {key: leg_from_proto(getattr(message, name)) for name, key in names if message.HasField(name)}
    return legs or None


_HIT_LEGS = (("dense", "dense"), ("text", "text"), ("sparse", "sparse"))
_CHUNK_LEGS = (("dense", "dense"), ("text_leg", "text"), ("sparse", "sparse"))


def hit_from_proto(hit, with_payload, with_vectors):
    payload = hit.record if with_payload else None
    return {
        "id": hit.id,
        "row_version": hit.row_version,
        "distance": hit.distance,
        "score": hit.score,
        "legs": legs_from_proto(hit, _HIT_LEGS),
        "text": payload.text if payload is not None else None,
        "document_id": payload.document_id if payload is not None else None,
        "metadata": metadata_from_proto(payload.metadata) if payload is not None else None,
        "vector": list(hit.record.vector) if with_vectors else None,
    }


def text_index_to_proto(text_index, out):
    """Fills a TextIndexConfig from a preset name ("standard", "english") or
    a dict of preset, k1, b and the analyzer's fields (case_fold,
    ascii_fold, stopwords, stemmer, max_term_bytes; unset ones take the
    preset's values)."""
    if isinstance(text_index, str):
        text_index = {"preset": text_index}
    if not isinstance(text_index, dict):
        raise TypeError(f"text_index: expected a preset name (str) or a dict, got {type(text_index).__name__}")
    unknown = sorted(set(text_index) - set(_TEXT_INDEX_KEYS))
    if unknown:
        raise ValueError(
            f"text_index: unknown key(s) {', '.join(map(repr, unknown))} (expected {', '.join(_TEXT_INDEX_KEYS)})"
        )
    preset = text_index.get("preset")
    if preset is None:
        preset = "standard"
    if preset not in _ANALYZER_PRESETS:
        raise ValueError(f"text_index.preset: {preset!r} is not one of {', '.join(_ANALYZER_PRESETS)}")
    out.SetInParent()
    out.analyzer.preset = preset
    for key in ("k1", "b"):
        if text_index.get(key) is not None:
            setattr(out, key, fraction(text_index[key], f"text_index.{key}"))
    for key in ("case_fold", "ascii_fold"):
        value = text_index.get(key)
        if value is not None:
            if not _is_bool(value):
                raise TypeError(f"text_index.{key}: expected a bool, got {type(value).__name__}")
            setattr(out.analyzer, key, bool(value))
    for key in ("stopwords", "stemmer"):
        if text_index.get(key) is not None:
            setattr(out.analyzer, key, text(text_index[key], f"text_index.{key}"))
    if text_index.get("max_term_bytes") is not None:
        out.analyzer.max_term_bytes = integer(text_index["max_term_bytes"], "text_index.max_term_bytes", 0, 0xFFFFFFFF)
    fields = text_index.get("fields")
    if fields is not None:  # BM25F: a dict of metadata key to weight (1..16), or a list of keys (weight 1)
        if isinstance(fields, (str, bytes)):
            raise TypeError("text_index.fields: expected a dict of name to weight or a list of names, got a str")
        items = fields.items() if isinstance(fields, dict) else ((n, 1) for n in fields)
        for name, weight in items:
            field = out.fields.add()
            field.name = text(name, "text_index.fields")
            field.weight = integer(weight, f'text_index.fields["{name}"]', 1, 16)


def sparse_fields_to_proto(sparse_fields, out):
    """Appends SparseFieldConfigs from a list of names or a dict of name to
    dimension (None: the default, 2**31)."""
    if isinstance(sparse_fields, (str, bytes)):
        raise TypeError("sparse_fields: expected a list of names or a dict of name to dimension, got a single str "
                        "(wrap it in a list)")
    items = sparse_fields.items() if isinstance(sparse_fields, dict) else ((n, None) for n in sparse_fields)
    for i, (name, dimension) in enumerate(items):
        field = out.add()
        field.name = text(name, f"sparse_fields[{i}]")
        if dimension is not None:
            field.dimension = integer(dimension, f'sparse_fields["{name}"]', 1, 2**31)


def text_index_from_proto(config):
    if not config.HasField("text_index"):
        return None
    t = config.text_index
    a = t.analyzer
    return {
        "preset": a.preset,
        "k1": t.k1,
        "b": t.b,
        "case_fold": a.case_fold,
        "ascii_fold": a.ascii_fold,
        "stopwords": a.stopwords,
        "stemmer": a.stemmer,
        "max_term_bytes": a.max_term_bytes,
        "analyzer_version": t.analyzer_version,
        "fields": {f.name: f.weight for f in t.fields},
    }


def set_query_legs(message, text_query, sparse_field, sparse, fusion, rrf_k, weights, leg_limit):
    """Sets the text and sparse legs and the fusion of a SearchQuery or a
    RetrieveRequest, checking each argument (TypeError / ValueError naming
    it)."""
    message.text = text(text_query, "text")
    if (sparse_field is None) != (sparse is None):
        raise ValueError("sparse_field and sparse go together: the sparse query vector and the field it is in")
    if sparse is not None:
        message.sparse_field = text(sparse_field, "sparse_field")
        sparse_to_proto(sparse, message.sparse, "sparse")
    if fusion is None and rrf_k is None and weights is None and leg_limit is None:
        return
    f = message.fusion
    f.SetInParent()
    if fusion is not None:
        try:
            f.method = _FUSION_METHODS[str(fusion).lower()]
        except KeyError:
            raise ValueError(f"fusion: {fusion!r} is not one of {', '.join(_FUSION_METHODS)}") from None
    if rrf_k is not None:
        f.rrf_k = integer(rrf_k, "rrf_k", 1, 0xFFFFFFFF)
    if leg_limit is not None:
        f.leg_limit = integer(leg_limit, "leg_limit", 1, 0xFFFFFFFF)
    if weights is not None:
        if not isinstance(weights, dict):
            raise TypeError(f'weights: expected a dict like {{"dense": 1, "text": 0.5}}, got {type(weights).__name__}')
        unknown = sorted(set(weights) - set(_WEIGHT_KEYS))
        if unknown:
            raise ValueError(f"weights: unknown leg(s) {', '.join(map(repr, unknown))} (expected dense, text, sparse)")
        for key, value in weights.items():
            if value is None:
                continue
            if _is_bool(value) or not isinstance(value, numbers.Real):
                raise TypeError(f'weights["{key}"]: expected a number, got {type(value).__name__} {value!r}')
            setattr(f, f"{key}_weight", float(value))


def collection_from_proto(info):
    c = info.config
    return {
        "name": c.name,
        "dimension": c.dimension,
        "metric": _METRIC_NAMES.get(c.metric, str(c.metric)),
        "m": c.m,
        "ef_construction": c.ef_construction,
        "default_ef": c.default_ef,
        "head_version": info.head_version,
        "created_at_us": info.created_at_us,
        "live_records": info.live_records,
        "graph_nodes": info.graph_nodes,
        # None without a full-text index; else its analyzer, k1, b.
        "text_index": text_index_from_proto(c),
        "sparse_fields": {f.name: f.dimension for f in c.sparse_fields},
        # "" when the collection serves; else why not (damaged at start:
        # every call on it raises DATA_LOSS; docs/reliability.md).
        "unavailable": info.unavailable,
    }


def version_from_proto(v):
    return {
        "version": v.version,
        "committed_at_us": v.committed_at_us,
        "upserted": v.upserted,
        "deleted": v.deleted,
    }


def set_read_at(at, message):
    """Sets ``message.at`` when a version is given. Version 0 is a real
    version (the empty collection), so only None means "the head"."""
    if at is None:
        return
    if _is_bool(at) or not isinstance(at, numbers.Integral) or not 0 <= int(at) < 2**64:
        raise ValueError(f"at: expected a version number >= 0 or None, got {at!r}")
    message.at.version = int(at)


def set_read_point(at, message):
    """Like ``set_read_at``, but ``at`` may also be a snapshot name (str),
    which the server resolves (and, for a retrieval, logs by name)."""
    if isinstance(at, str):
        if not at:
            raise ValueError("at: empty snapshot name")
        message.at.snapshot = at
        return
    set_read_at(at, message)


def integer(value, field, minimum, maximum):
    """An integer argument in [minimum, maximum]: TypeError for another type
    (bool included), ValueError out of range, each naming ``field`` (where
    protobuf would say only "Value out of range")."""
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{field}: expected an integer in {minimum}..{maximum}, got {type(value).__name__} {value!r}")
    if not minimum <= int(value) <= maximum:
        raise ValueError(f"{field}: expected an integer in {minimum}..{maximum}, got {value!r}")
    return int(value)


def uint32(value, field, minimum=0):
    """A count the wire carries as uint32; None means 0 (when 0 is allowed)."""
    if value is None and minimum == 0:
        return 0
    return integer(value, field, minimum, 0xFFFFFFFF)


def fraction(value, field):
    """A float argument (None: 0), TypeError naming ``field`` for a non-number;
    its range is the server's to check."""
    if value is None:
        return 0.0
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{field}: expected a number, got {type(value).__name__} {value!r}")
    return float(value)


def text(value, field):
    """A str argument (None: ""), checked to be encodable as UTF-8 (a lone
    surrogate is not), naming ``field``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{field}: expected str, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{field}: not encodable as UTF-8 ({e.reason} at index {e.start})") from None
    return value


def text_list(values, field):
    """A list of str from a list or tuple (a single str is refused: it would
    be taken as its characters)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{field}: expected a list of str, got a single {type(values).__name__} (wrap it in a list)")
    if values is None or not hasattr(values, "__iter__"):
        raise TypeError(f"{field}: expected a list of str, got {type(values).__name__}")
    return [text(v, f"{field}[{i}]") for i, v in enumerate(values)]


def retrieval_from_proto(resp):
    chunks = [
        {
            "id": c.id,
            "row_version": c.row_version,
            "distance": c.distance,
            "text": c.text,
            "text_sha256": c.text_sha256,
            "document_id": c.document_id,
            "tokens": c.tokens,
            "in_context": c.in_context,
            "score": c.score,
            "legs": legs_from_proto(c, _CHUNK_LEGS),
        }
        for c in resp.chunks
    ]
    return {
        "retrieval_id": resp.retrieval_id,
        "log_seq": resp.log_seq,
        "version": resp.version,
        "exact": resp.exact,
        "chunks": chunks,
        "context": resp.context,
        "context_sha256": resp.context_sha256,
        "context_tokens": resp.context_tokens,
        "prompt": resp.prompt,
    }


def answer_record_from_proto(r):
    return {
        "seq": r.seq,
        "time_us": r.time_us,
        "retrieval_id": r.retrieval_id,
        "collection": r.collection,
        "version": r.version,
        "answer": r.answer,
        "model": r.model,
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    }


def check_filter(filter):
    if filter is None:
        return ""
    if not isinstance(filter, str):
        raise TypeError(f"filter: expected the text syntax of docs/filters.md (str), got {type(filter).__name__}")
    return filter


def prompt_from_proto(p):
    """A prompt version as a dict."""
    return {
        "name": p.name,
        "version": p.version,
        "template": p.template,
        "config_json": p.config_json,
        "author": p.author,
        "message": p.message,
        "created_at_us": p.created_at_us,
        "variables": list(p.variables),
        "labels": list(p.labels),
    }


def label_move_from_proto(m):
    """A label move as a dict."""
    return {
        "label": m.label,
        "version": m.version,
        "previous_version": m.previous_version,
        "actor": m.actor,
        "moved_at_us": m.moved_at_us,
    }


def _enum_prefix(enum_type):
    """The prefix of an enum's value names: LogKind -> "LOG_KIND_"."""
    name = enum_type.name
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(name)).upper() + "_"


def message_to_dict(message):
    """A response message as a dict of its fields, recursively: repeated
    fields as lists, an unset singular message as None, enum values as their
    short lower-case names (LOG_KIND_ANSWER -> "answer"). Used for the
    log's records and the audit side's responses, whose fields are
    documented in proto/verity/v1/context.proto."""
    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)

        def one(v):
            if field.message_type is not None:
                return message_to_dict(v)
            if field.enum_type is not None:
                name = field.enum_type.values_by_number[v].name if v in field.enum_type.values_by_number else str(v)
                return name[len(_enum_prefix(field.enum_type)):].lower()
            return v

        if field.label == field.LABEL_REPEATED:
            out[field.name] = [one(v) for v in value]
        elif field.message_type is not None and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = one(value)
    return out
