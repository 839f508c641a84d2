"""The HTTP app of the real-time scoring endpoint (`segmentation-serve`, `make serve`).

FastAPI on uvicorn, loopback by default. The model (centroids, scaler, segment names) and the
feature rows of known customers are read from the registry in the DuckDB file, opened read-only
and closed again at once (DuckDB lets no writer in while any process holds the file open; the
build waits for such a read), and re-read when the registry's current run changes, so a new
training run is served without a restart. Scoring is the clustering core's `predict`, the code
the dbt Python model uses.

What can be checked before the body is read is checked first, in `RequestGuard`: no query
string on /score (it would be logged), the key, and the body's size.
"""

import copy
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    create_model,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from customer_segmentation.core.features import FEATURE_COLUMNS
from customer_segmentation.core.serving import RegistryUnavailable, ScoringModel

API_KEY_ENV = "SEGMENTS_API_KEY"
# secrets.token_urlsafe(24) is 32 characters.
MIN_KEY_LENGTH = 32
DATABASE_ENV = "SEGMENTS_DUCKDB_PATH"
MAX_BATCH_ENV = "SEGMENTS_MAX_BATCH"
DEFAULT_MAX_BATCH = 10_000
# How often the registry is checked for a newer model, in seconds. Every check opens the DuckDB
# file, and a build starting meanwhile waits for it (adapters.dbt_build): never more
# than once a second.
RELOAD_INTERVAL_ENV = "SEGMENTS_RELOAD_SECONDS"
DEFAULT_RELOAD_SECONDS = 5.0
MIN_RELOAD_SECONDS = 1.0
MAX_BODY_ENV = "SEGMENTS_MAX_BODY_BYTES"
# A feature row is about 120 bytes of JSON; 256 leaves room for long floats and whitespace.
BODY_BYTES_PER_ROW = 256
SCORE_PATH = "/score"

logger = logging.getLogger(__name__)


ModelLoader = Callable[[], ScoringModel]
# Real ratios are small and frequency is a count of tickets; the upper bound keeps squared
# distances finite (a feature near 1e308 would overflow to infinity).
MAX_FEATURE_VALUE = 1e9
NonNegative = Annotated[float, Field(strict=True, ge=0, le=MAX_FEATURE_VALUE, allow_inf_nan=False)]


def _no_text_or_bool(value: object) -> object:
    """A customer key is a JSON number (1 or 1.0), never "1" or true."""
    if isinstance(value, str | bool):
        raise ValueError("customer must be a JSON integer")
    return value


def _row_kind(value: object) -> str:
    return "by_customer" if isinstance(value, dict) and "customer" in value else "by_features"


# One customer's features, as the tutorial defines them: a field per feature of the core.
FeatureRow = create_model(
    "FeatureRow",
    __config__=ConfigDict(extra="forbid"),
    __doc__="One customer's features, as the tutorial defines them.",
    **{name: (NonNegative, ...) for name in FEATURE_COLUMNS},
)


class CustomerRow(BaseModel):
    """A known customer, looked up in the feature table."""

    model_config = ConfigDict(extra="forbid")
    customer: Annotated[int, Field(ge=0), BeforeValidator(_no_text_or_bool)]


# A row is either the four features or a customer key; the keys say which, so errors name
# the fields of the kind of row that was meant.
ScoreRow = Annotated[
    Annotated[FeatureRow, Tag("by_features")] | Annotated[CustomerRow, Tag("by_customer")],
    Discriminator(_row_kind),
]
UNION_TAGS = {"by_features", "by_customer"}


def score_request_model(max_batch: int) -> type[BaseModel]:
    """Azure ML's request shape, `{"data": [row, ...]}`, with the batch limit in the schema."""
    return create_model(
        "ScoreRequest",
        __config__=ConfigDict(extra="forbid"),
        data=(list[ScoreRow], Field(min_length=1, max_length=max_batch)),
    )


class SegmentScore(BaseModel):
    segment_id: int
    segment_name: str
    distances: dict[str, float] = Field(description="distance to each segment's centroid, by id")
    run_id: str
    customer: int | None = None


class ScoreResponse(BaseModel):
    run_id: str
    results: list[SegmentScore]


class ErrorBody(BaseModel):
    """Every error: one readable line naming the problem, and pydantic's list for 422s."""

    detail: str
    errors: list[dict[str, Any]] | None = None


class Health(BaseModel):
    status: str = Field(
        description="ok, stale (serving a model the file cannot confirm) or unavailable"
    )
    model_loaded: bool
    run_id: str | None
    stale: bool = Field(description="the model is served but the registry cannot be read now")
    error: str | None = Field(None, description="why the registry cannot be read; names no path")


class ModelHolder:
    """The model being served; reloaded when the loader reports a new run, at most so often."""

    def __init__(
        self,
        loader: ModelLoader,
        current_run: Callable[[], str | None],
        every: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._loader = loader
        self._current_run = current_run
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._checked = -math.inf
        self.model: ScoringModel | None = None
        self.error: str | None = None

    def get(self) -> ScoringModel | None:
        now = self._clock()
        if now - self._checked >= self._every and self._lock.acquire(blocking=False):
            try:
                self._checked = now
                self._refresh()
            finally:
                self._lock.release()
        return self.model

    def _refresh(self) -> None:
        try:
            run_id = self._current_run()
            if self.model is None or run_id != self.model.run_id:
                self.model = self._loader()
            self.error = None
        except Exception as exc:  # keep serving the model we have; report why in /health
            # Clients see a reason without paths; the operator's log has the whole error.
            logger.warning(
                "cannot read the registry; serving the model loaded before", exc_info=True
            )
            if isinstance(exc, RegistryUnavailable):
                self.error = str(exc)
            else:
                self.error = f"the registry cannot be read ({type(exc).__name__})"


def key_matches(authorization: str, api_key: str) -> bool:
    """Whether an Authorization header carries the key as a Bearer token (constant time)."""
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    return secrets.compare_digest(given.strip().encode(), api_key.encode())


def default_max_body_bytes(max_batch: int) -> int:
    """Room for a full batch of feature rows."""
    return max_batch * BODY_BYTES_PER_ROW + 4096


class RequestGuard:
    """Checks what needs no body before any of it is read, then reads at most the limit.

    A pure ASGI middleware, so neither FastAPI nor pydantic sees an unauthenticated or oversized
    body: on /score a query string is 400 (a key sent there would reach the access log), a
    missing or wrong key 401, and on every route a body over `max_body_bytes` is 413, by its
    Content-Length or once that much of a streamed body has arrived.
    """

    def __init__(self, app: ASGIApp, api_key: str, max_body_bytes: int) -> None:
        self.app = app
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["path"] == SCORE_PATH:
            if scope.get("query_string"):
                detail = "no query string on /score: send the key in the Authorization header"
                await _reply(send, 400, detail)
                return
            if not key_matches(headers.get("authorization", ""), self.api_key):
                await _reply(send, 401, "missing or wrong API key", {"WWW-Authenticate": "Bearer"})
                return
        too_large = f"body: at most {self.max_body_bytes} bytes"
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await _reply(send, 400, "Content-Length is not a number")
                return
            if int(declared) > self.max_body_bytes:
                await _reply(send, 413, too_large)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _reply(send, 413, too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def _reply(send: Send, status_code: int, detail: str, headers: dict | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The body may be unread: the client must not reuse the connection.
        (b"connection", b"close"),
    ] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status_code, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class OmitQueryStrings(logging.Filter):
    """Cuts the query string off uvicorn's access log lines, so no key sent there is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access logs (client, method, path with query, http version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with query strings left out of the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["omit_query_strings"] = {"()": OmitQueryStrings}
    config["loggers"]["uvicorn.access"]["filters"] = ["omit_query_strings"]
    return config


def create_app(
    loader: ModelLoader,
    current_run: Callable[[], str | None],
    api_key: str,
    max_batch: int = DEFAULT_MAX_BATCH,
    reload_seconds: float = DEFAULT_RELOAD_SECONDS,
    max_body_bytes: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The scoring service around a model loader; the loader is the only I/O.

    Refuses settings it cannot serve safely with a ValueError naming the variable. `clock`
    lets tests move time instead of waiting for the reload interval.
    """
    if len(api_key) < MIN_KEY_LENGTH:
        raise ValueError(
            f"{API_KEY_ENV} must be at least {MIN_KEY_LENGTH} characters, got {len(api_key)}: "
            "generate one with python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    if max_batch < 1:
        raise ValueError(f"{MAX_BATCH_ENV} must be >= 1, got {max_batch}")
    if not (math.isfinite(reload_seconds) and reload_seconds >= MIN_RELOAD_SECONDS):
        raise ValueError(
            f"{RELOAD_INTERVAL_ENV} must be at least {MIN_RELOAD_SECONDS:g} s, "
            f"got {reload_seconds}: each check opens the DuckDB file, which the nightly build "
            "must be able to write"
        )
    if max_body_bytes is None:
        max_body_bytes = default_max_body_bytes(max_batch)
    if max_body_bytes < 1:
        raise ValueError(f"{MAX_BODY_ENV} must be >= 1, got {max_body_bytes}")
    holder = ModelHolder(loader, current_run, reload_seconds, clock)
    ScoreRequest = score_request_model(max_batch)  # noqa: N806 (a class)
    app = FastAPI(
        title="Customer segment scoring",
        version="1.0.0",
        description=(
            "Scores customers against the current k-means segment model of the registry. "
            "Send `Authorization: Bearer <key>`."
        ),
    )
    app.add_middleware(RequestGuard, api_key=api_key, max_body_bytes=max_body_bytes)
    bearer = HTTPBearer(auto_error=False, description=f"the key in {API_KEY_ENV}")

    def require_key(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        # RequestGuard has refused a wrong key already; this documents the scheme in OpenAPI.
        given = f"Bearer {credentials.credentials}" if credentials else ""
        if not key_matches(given, api_key):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="missing or wrong API key",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field in one readable line besides FastAPI's structured list.
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(
            str(p) for p in first.get("loc", ()) if p != "body" and p not in UNION_TAGS
        )
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg")
        return JSONResponse(
            status_code=422,
            content={"detail": message, "errors": jsonable_errors(errors)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI answers a body it cannot decode with 400; to clients that is bad input too.
        if exc.status_code == status.HTTP_400_BAD_REQUEST:
            return JSONResponse(status_code=422, content={"detail": f"body: {exc.detail}"})
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": exc.detail},
            headers=getattr(exc, "headers", None),
        )

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    def health() -> JSONResponse:
        """200 with the run id while a model is served (`stale` when the file cannot be read
        now, with the reason), 503 with the reason while no model can be loaded."""
        model = holder.get()
        stale = model is not None and holder.error is not None
        body = Health(
            status="stale" if stale else "ok" if model else "unavailable",
            model_loaded=model is not None,
            run_id=model.run_id if model else None,
            stale=stale,
            error=holder.error,
        )
        return JSONResponse(body.model_dump(), status_code=200 if model else 503)

    @app.post(
        "/score",
        response_model=ScoreResponse,
        dependencies=[Depends(require_key)],
        responses={
            400: {"model": ErrorBody, "description": "a query string (send the key in a header)"},
            401: {"model": ErrorBody, "description": "missing or wrong API key"},
            404: {"model": ErrorBody, "description": "a customer key that is not in the features"},
            413: {"model": ErrorBody, "description": "a body over the size limit"},
            422: {"model": ErrorBody, "description": "the request names the bad field"},
            503: {"model": ErrorBody, "description": "no model loaded yet"},
        },
    )
    def score(request: ScoreRequest) -> ScoreResponse:
        """Segment of every row: four features, or a known customer's key."""
        if len(request.data) > max_batch:
            raise HTTPException(
                422, detail=f"data: at most {max_batch} rows, got {len(request.data)}"
            )
        model = holder.get()
        if model is None:
            raise HTTPException(503, detail=f"no model loaded: {holder.error}")
        features, customers = rows_to_features(request.data, model)
        results = model.score(features)
        for result, customer in zip(results, customers, strict=True):
            result["customer"] = customer
        return ScoreResponse(run_id=model.run_id, results=[SegmentScore(**r) for r in results])

    return app


def rows_to_features(
    rows: list[BaseModel], model: ScoringModel
) -> tuple[pd.DataFrame, list[int | None]]:
    """The feature matrix of a request; customer rows are looked up, unknown ones named."""
    known = model.customer_features
    matrix = np.empty((len(rows), len(FEATURE_COLUMNS)))
    customers: list[int | None] = []
    for i, row in enumerate(rows):
        if isinstance(row, CustomerRow):
            if row.customer not in known.index:
                raise HTTPException(
                    404, detail=f"data.{i}.customer: unknown customer {row.customer}"
                )
            customers.append(row.customer)
        else:
            matrix[i] = [getattr(row, name) for name in FEATURE_COLUMNS]
            customers.append(None)
    looked_up = [i for i, c in enumerate(customers) if c is not None]
    if looked_up:
        keys = [customers[i] for i in looked_up]
        matrix[looked_up] = known.loc[keys, list(FEATURE_COLUMNS)].to_numpy(dtype=float)
    return pd.DataFrame(matrix, columns=list(FEATURE_COLUMNS)), customers


def jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors without the non-JSON parts (exceptions in ctx, NaN inputs)."""
    out = []
    for error in errors:
        item = {k: error[k] for k in ("type", "loc", "msg") if k in error}
        out.append(item)
    return out
