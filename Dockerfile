# One image for every process: `relivchats api|projector|worker|indexer|beat|migrate`.
# It holds no secret: every key comes from the environment at run time (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# PyTorch from its CPU-only index first: the embedder needs no GPU, and the default index would
# pull several GB of CUDA wheels. The pin matches pyproject.toml, so `pip install .` keeps it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md LICENSE ./
COPY relivchats ./relivchats
RUN pip install . && python -c "import torch; assert torch.version.cuda is None, 'CUDA build'"

# Never root: a system user owning only the data folder (beat's schedule, local stores).
RUN useradd --system --home-dir /var/lib/relivchats --create-home relivchats
USER relivchats
ENV DATA_DIR=/var/lib/relivchats

EXPOSE 8000
ENTRYPOINT ["relivchats"]
CMD ["check-config"]
